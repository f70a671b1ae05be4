import Anthropic from '@anthropic-ai/sdk';
import type { RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages';
import type { Engine, EngineCallOptions } from '../../inference/engine';
import { ProviderError } from '../../inference/errors';
import type { ReasoningBlock, Turn } from '../../inference/turn';
import type { ProviderEngineOptions } from '../shared/engine-options';
import { reasoningBlock, runProviderCall, usageOf, type AttemptContext, type AttemptOutcome } from '../shared/provider-call';
import { ToolCallAssembler } from '../shared/tool-calls';
import { buildAnthropicRequest } from './anthropic-request';

export type AnthropicEngineOptions = ProviderEngineOptions;

type OpenBlock =
  | { kind: 'thinking'; text: string; signature: string }
  | { kind: 'tool_use'; input: unknown }
  | { kind: 'other' };

/**
 * Anthropic Messages, streaming: `text_delta` → text, `thinking_delta` → thinking (the block
 * and its signature kept for the next request), `tool_use` blocks with `input_json_delta`
 * fragments merged by content block index → tool calls, usage from `message_start` +
 * `message_delta`, the end at `message_stop`.
 */
export class AnthropicEngine implements Engine {
  readonly name = 'anthropic';
  readonly model: string;
  private readonly client: Anthropic;

  constructor(private readonly opts: AnthropicEngineOptions) {
    this.model = opts.model;
    this.client = new Anthropic({
      apiKey: opts.apiKey,
      ...(opts.baseURL ? { baseURL: opts.baseURL } : {}),
      maxRetries: 0, // we retry ourselves, and only before the first content chunk
      logLevel: 'off', // failures reach the log as our own `log` events (redacted)
      ...(opts.fetch ? { fetch: opts.fetch } : {}),
    });
  }

  runInference(turn: Turn, call: EngineCallOptions): Promise<Turn> {
    return runProviderCall(
      {
        provider: this.name, model: this.model, turn, call, maxRetries: this.opts.maxRetries,
        retryBackoffMs: this.opts.retryBackoffMs, timeouts: this.opts, secrets: [this.opts.apiKey],
      },
      (ctx) => this.attempt(turn, call, ctx),
    );
  }

  private async attempt(turn: Turn, call: EngineCallOptions, ctx: AttemptContext): Promise<AttemptOutcome> {
    const body = buildAnthropicRequest(this.opts, turn, call);
    const stream = await ctx.open(this.client.messages.create(body, { signal: ctx.signal }) as PromiseLike<AsyncIterable<RawMessageStreamEvent>>);
    const open = new Map<number, OpenBlock>();
    const calls = new ToolCallAssembler();
    const reasoning: ReasoningBlock[] = [];
    let input = 0, cacheRead = 0, cacheWrite = 0, output = 0;
    let stop: string | null = null;
    let ended = false;

    const addReasoning = (text: string, data: string | null, extra: Record<string, unknown> = {}) =>
      reasoning.push(reasoningBlock(ctx.reasoningId(reasoning.length), text, data, { provider: this.name, ...extra }));

    for await (const ev of stream) {
      if (ctx.signal.aborted) break;
      switch (ev.type) {
        case 'message_start': {
          const u = ev.message.usage;
          input = u.input_tokens ?? 0;
          cacheRead = u.cache_read_input_tokens ?? 0;
          cacheWrite = u.cache_creation_input_tokens ?? 0;
          output = u.output_tokens ?? 0;
          break;
        }
        case 'content_block_start': {
          const b = ev.content_block;
          if (b.type === 'text') {
            open.set(ev.index, { kind: 'other' });
            if (b.text) ctx.text(b.text);
          } else if (b.type === 'thinking') {
            open.set(ev.index, { kind: 'thinking', text: b.thinking ?? '', signature: b.signature ?? '' });
            if (b.thinking) ctx.thinking(b.thinking);
          } else if (b.type === 'redacted_thinking') {
            addReasoning('', b.data, { redacted: true });
          } else if (b.type === 'tool_use') {
            open.set(ev.index, { kind: 'tool_use', input: b.input });
            calls.add(ev.index, { id: b.id, name: b.name });
          } else {
            open.set(ev.index, { kind: 'other' });
          }
          break;
        }
        case 'content_block_delta': {
          const d = ev.delta;
          const blk = open.get(ev.index);
          if (d.type === 'text_delta') ctx.text(d.text);
          else if (d.type === 'thinking_delta' && blk?.kind === 'thinking') { blk.text += d.thinking; ctx.thinking(d.thinking); }
          else if (d.type === 'signature_delta' && blk?.kind === 'thinking') blk.signature += d.signature;
          else if (d.type === 'input_json_delta') calls.add(ev.index, { args: d.partial_json });
          break;
        }
        case 'content_block_stop': {
          const blk = open.get(ev.index);
          open.delete(ev.index);
          if (blk?.kind === 'thinking') addReasoning(blk.text, blk.signature || null);
          else if (blk?.kind === 'tool_use') {
            const c = calls.take(ev.index);
            if (c) {
              // No input_json_delta at all: the start block carried the whole input.
              const args = c.argsText === '' ? (blk.input ?? {}) : c.argsText;
              ctx.toolCall({ providerId: c.providerId, name: c.name, args });
            }
          }
          break;
        }
        case 'message_delta': {
          if (ev.delta.stop_reason) stop = ev.delta.stop_reason;
          const u = ev.usage;
          if (u) {
            output = u.output_tokens ?? output;
            if (u.input_tokens != null) input = u.input_tokens;
            if (u.cache_read_input_tokens != null) cacheRead = u.cache_read_input_tokens;
            if (u.cache_creation_input_tokens != null) cacheWrite = u.cache_creation_input_tokens;
          }
          break;
        }
        case 'message_stop':
          ended = true;
          break;
      }
    }
    ctx.throwIfAborted();
    if (!ended) throw new ProviderError('provider_stream', 'the stream ended before message_stop', { retryable: true });
    // Input tokens as the other providers count them: cached and cache-written prompt tokens included.
    return {
      usage: usageOf(input + cacheRead + cacheWrite, output, cacheRead),
      stopReason: anthropicStopReason(stop),
      reasoning,
    };
  }
}

function anthropicStopReason(stop: string | null): string | null {
  switch (stop) {
    case null: return null;
    case 'end_turn':
    case 'stop_sequence': return 'stop';
    case 'max_tokens': return 'length';
    case 'tool_use': return 'tool_calls';
    case 'refusal': return 'content_filter';
    default: return stop;
  }
}

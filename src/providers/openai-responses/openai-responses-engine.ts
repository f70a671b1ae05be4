import OpenAI from 'openai';
import type { ResponseStreamEvent, ResponseUsage } from 'openai/resources/responses/responses';
import type { Engine, EngineCallOptions } from '../../inference/engine';
import { ProviderError } from '../../inference/errors';
import type { ReasoningBlock, Turn } from '../../inference/turn';
import type { Usage } from '../../protocol/frames';
import type { ProviderEngineOptions } from '../shared/engine-options';
import { openaiEventBatches } from '../shared/openai-stream';
import { reasoningBlock, runProviderCall, usageOf, type AttemptContext, type AttemptOutcome } from '../shared/provider-call';
import { ToolCallAssembler } from '../shared/tool-calls';
import { buildResponsesRequest, RESPONSES_PROVIDER } from './openai-responses-request';

export type OpenAIResponsesEngineOptions = ProviderEngineOptions;

/** An error the stream reported (`error` event, `response.failed`), with the provider's code for classification. */
class StreamReportedError extends Error {
  constructor(message: string, readonly code: string | null) {
    super(message);
    this.name = 'StreamReportedError';
  }
}

/**
 * OpenAI Responses API, streaming: `response.output_text.delta` → text; reasoning summary (and
 * raw reasoning text, from compatible servers) → thinking, the reasoning item kept with its
 * encrypted content for the next request; `function_call` items with argument fragments merged
 * by output index → tool calls; usage and status from `response.completed` / `.incomplete`.
 */
export class OpenAIResponsesEngine implements Engine {
  readonly name = RESPONSES_PROVIDER;
  readonly model: string;
  private readonly client: OpenAI;

  constructor(private readonly opts: OpenAIResponsesEngineOptions) {
    this.model = opts.model;
    this.client = new OpenAI({
      apiKey: opts.apiKey,
      baseURL: opts.baseURL,
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
    const body = buildResponsesRequest(this.opts, turn, call);
    // The SDK sends the request and maps an HTTP error; the stream itself is read lean (batches per network read).
    const stream = await ctx.open(
      this.client.responses.create(body, { signal: ctx.signal }).asResponse()
        .then((res) => openaiEventBatches<ResponseStreamEvent>(res, ctx.signal)),
    );
    const calls = new ToolCallAssembler();
    const reasoning: ReasoningBlock[] = [];
    /** Reasoning text per output index, and the last summary part seen (parts are separated by a blank line). */
    const thoughts = new Map<number, { text: string; part: number }>();
    let usage: Usage | null = null;
    let status: string | null = null;
    let incompleteReason: string | null = null;
    let toolCallCount = 0;

    const think = (index: number, part: number, delta: string) => {
      const t = thoughts.get(index) ?? { text: '', part };
      thoughts.set(index, t);
      let chunk = delta;
      if (part !== t.part && t.text) chunk = `\n\n${delta}`;
      t.part = part;
      t.text += chunk;
      ctx.thinking(chunk);
    };

    read: for await (const batch of stream) {
      for (const ev of batch) {
        if (ctx.signal.aborted) break read;
        switch (ev.type) {
          case 'response.output_text.delta':
          case 'response.refusal.delta':
            ctx.text(ev.delta);
            break;
          case 'response.reasoning_summary_text.delta':
            think(ev.output_index, ev.summary_index, ev.delta);
            break;
          case 'response.reasoning_text.delta':
            think(ev.output_index, ev.content_index, ev.delta);
            break;
          case 'response.output_item.added':
            if (ev.item.type === 'function_call') {
              calls.add(ev.output_index, { id: ev.item.call_id, name: ev.item.name, args: ev.item.arguments });
            }
            break;
          case 'response.function_call_arguments.delta':
            calls.add(ev.output_index, { args: ev.delta });
            break;
          case 'response.function_call_arguments.done':
            calls.setArgs(ev.output_index, ev.arguments);
            break;
          case 'response.output_item.done': {
            const item = ev.item;
            if (item.type === 'function_call') {
              const c = calls.take(ev.output_index);
              toolCallCount++;
              ctx.toolCall({ providerId: item.call_id || c?.providerId, name: item.name || c?.name || '', args: item.arguments || c?.argsText || '' });
            } else if (item.type === 'reasoning') {
              const summary = item.summary.map((s) => s.text).join('\n\n');
              const text = summary || thoughts.get(ev.output_index)?.text || '';
              reasoning.push(reasoningBlock(ctx.reasoningId(reasoning.length), text, item.encrypted_content ?? null, { provider: this.name, itemId: item.id }));
            }
            break;
          }
          case 'response.completed':
          case 'response.incomplete':
            status = ev.response.status ?? (ev.type === 'response.completed' ? 'completed' : 'incomplete');
            incompleteReason = ev.response.incomplete_details?.reason ?? null;
            usage = responsesUsage(ev.response.usage);
            break;
          case 'response.failed': {
            const e = ev.response.error;
            throw new StreamReportedError(e?.message ?? 'the response failed', e?.code ?? 'server_error');
          }
          case 'error':
            throw new StreamReportedError(ev.message, ev.code ?? 'server_error');
        }
      }
    }
    ctx.throwIfAborted();
    if (status === null) throw new ProviderError('provider_stream', 'the stream ended before response.completed', { retryable: true });
    // Calls whose item never closed (should not happen) are still reported.
    for (const c of calls.drain()) {
      toolCallCount++;
      ctx.toolCall({ providerId: c.providerId, name: c.name, args: c.argsText });
    }
    return { usage, stopReason: responsesStopReason(status, incompleteReason, toolCallCount > 0), reasoning };
  }
}

function responsesUsage(u: ResponseUsage | null | undefined): Usage | null {
  if (!u) return null;
  return usageOf(u.input_tokens, u.output_tokens, u.input_tokens_details?.cached_tokens);
}

function responsesStopReason(status: string, incompleteReason: string | null, hasToolCalls: boolean): string {
  if (status === 'completed') return hasToolCalls ? 'tool_calls' : 'stop';
  if (incompleteReason === 'max_output_tokens') return 'length';
  if (incompleteReason === 'content_filter') return 'content_filter';
  return (incompleteReason ?? status).toLowerCase();
}

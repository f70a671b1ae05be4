import OpenAI from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import type { Engine, EngineCallOptions } from '../../inference/engine';
import { ProviderError } from '../../inference/errors';
import type { Turn } from '../../inference/turn';
import type { Usage } from '../../protocol/frames';
import type { ProviderEngineOptions } from '../shared/engine-options';
import { openaiEventBatches } from '../shared/openai-stream';
import { reasoningBlock, runProviderCall, usageOf, type AttemptContext, type AttemptOutcome } from '../shared/provider-call';
import { ToolCallAssembler } from '../shared/tool-calls';
import { buildChatRequest } from './openai-chat-request';

export type OpenAIChatEngineOptions = ProviderEngineOptions;

/**
 * OpenAI Chat Completions, streaming (`stream: true`, usage in the last chunk). Also any
 * OpenAI-compatible server through `baseURL` (Ollama, vLLM, llama.cpp, LM Studio); their
 * `reasoning_content` / `reasoning` deltas become thinking.
 */
export class OpenAIChatEngine implements Engine {
  readonly name = 'openai';
  readonly model: string;
  private readonly client: OpenAI;

  constructor(private readonly opts: OpenAIChatEngineOptions) {
    this.model = opts.model;
    this.client = new OpenAI({
      apiKey: opts.apiKey,
      baseURL: opts.baseURL,
      maxRetries: 0, // we retry ourselves, and only before the first content chunk
      logLevel: 'off', // failures reach the log as our own `log` events (redacted), not on the console
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
    const body = buildChatRequest({ ...this.opts, baseURL: this.client.baseURL }, turn, call);
    // The SDK sends the request and maps an HTTP error; the stream itself is read lean (batches per network read).
    const stream = await ctx.open(
      this.client.chat.completions.create(body, { signal: ctx.signal }).asResponse()
        .then((res) => openaiEventBatches<ChatCompletionChunk>(res, ctx.signal)),
    );
    const calls = new ToolCallAssembler();
    let usage: Usage | null = null;
    let finish: string | null = null;
    let thinking = '';

    read: for await (const batch of stream) {
      for (const chunk of batch) {
        if (ctx.signal.aborted) break read;
        if (chunk.usage) {
          usage = usageOf(chunk.usage.prompt_tokens, chunk.usage.completion_tokens, chunk.usage.prompt_tokens_details?.cached_tokens);
        }
        for (const choice of chunk.choices ?? []) {
          if ((choice.index ?? 0) !== 0) continue;
          const delta = (choice.delta ?? {}) as ChatCompletionChunk.Choice.Delta & { reasoning_content?: string | null; reasoning?: string | null };
          const reasoning = delta.reasoning_content ?? delta.reasoning;
          if (typeof reasoning === 'string' && reasoning) {
            thinking += reasoning;
            ctx.thinking(reasoning);
          }
          if (delta.content) ctx.text(delta.content);
          if (delta.refusal) ctx.text(delta.refusal);
          for (const tc of delta.tool_calls ?? []) {
            calls.add(tc.index, { id: tc.id, name: tc.function?.name, args: tc.function?.arguments });
          }
          if (choice.finish_reason) finish = choice.finish_reason;
        }
      }
    }
    ctx.throwIfAborted();
    if (finish === null) {
      throw new ProviderError('provider_stream', 'the stream ended before the model finished (no finish_reason)', { retryable: true });
    }
    const toolCalls = calls.drain();
    for (const c of toolCalls) ctx.toolCall({ providerId: c.providerId, name: c.name, args: c.argsText });
    return {
      usage,
      stopReason: chatStopReason(finish, toolCalls.length > 0),
      reasoning: thinking ? [reasoningBlock(ctx.reasoningId(0), thinking, null, { provider: this.name })] : [],
    };
  }
}

function chatStopReason(finish: string, hasToolCalls: boolean): string {
  switch (finish) {
    case 'tool_calls':
    case 'function_call':
      return 'tool_calls';
    case 'stop':
      return hasToolCalls ? 'tool_calls' : 'stop';
    default:
      return finish.toLowerCase();
  }
}

import { GoogleGenAI } from '@google/genai';
import type { Engine, EngineCallOptions } from '../../inference/engine';
import { ProviderError } from '../../inference/errors';
import type { Turn } from '../../inference/turn';
import type { Usage } from '../../protocol/frames';
import type { ProviderEngineOptions } from '../shared/engine-options';
import { reasoningBlock, runProviderCall, usageOf, type AttemptContext, type AttemptOutcome } from '../shared/provider-call';
import { buildGeminiRequest } from './gemini-request';

export type GeminiEngineOptions = ProviderEngineOptions;

const CONTENT_FILTER = new Set(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY', 'IMAGE_PROHIBITED_CONTENT']);

/**
 * Gemini `generateContentStream` (SSE): text parts → text, `thought` parts → thinking,
 * `functionCall` parts → tool calls (whole in one part; thought signatures kept on the block),
 * usage from `usageMetadata`, the end at the candidate's `finishReason`.
 */
export class GeminiEngine implements Engine {
  readonly name = 'gemini';
  readonly model: string;
  private readonly client: GoogleGenAI;

  constructor(private readonly opts: GeminiEngineOptions) {
    this.model = opts.model;
    this.client = new GoogleGenAI({
      apiKey: opts.apiKey,
      vertexai: false, // the Gemini API, whatever GOOGLE_GENAI_USE_VERTEXAI says
      httpOptions: {
        ...(opts.baseURL ? { baseUrl: opts.baseURL } : {}),
        ...(opts.fetch ? { fetch: opts.fetch } : {}),
        // No `retryOptions`: the SDK does not retry; we do, and only before the first content chunk.
      },
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
    const params = buildGeminiRequest(this.opts, turn, { ...call, signal: ctx.signal });
    const stream = await ctx.open(this.client.models.generateContentStream(params));
    let usage: Usage | null = null;
    let finish: string | null = null;
    let thinking = '';
    let textSignature: string | null = null;
    let toolCalls = 0;

    for await (const chunk of stream) {
      if (ctx.signal.aborted) break;
      const u = chunk.usageMetadata;
      if (u) {
        usage = usageOf(u.promptTokenCount, (u.candidatesTokenCount ?? 0) + (u.thoughtsTokenCount ?? 0), u.cachedContentTokenCount);
      }
      if (chunk.promptFeedback?.blockReason) finish = 'PROMPT_BLOCKED';
      const cand = chunk.candidates?.[0];
      for (const part of cand?.content?.parts ?? []) {
        if (part.thought) {
          if (part.text) { thinking += part.text; ctx.thinking(part.text); }
        } else if (part.functionCall) {
          toolCalls++;
          ctx.toolCall({
            providerId: part.functionCall.id,
            name: part.functionCall.name ?? '',
            args: part.functionCall.args ?? {},
            ...(part.thoughtSignature ? { meta: { thoughtSignature: part.thoughtSignature } } : {}),
          });
        } else if (part.text !== undefined) {
          ctx.text(part.text);
          if (part.thoughtSignature) textSignature = part.thoughtSignature;
        }
      }
      if (cand?.finishReason) finish = cand.finishReason;
    }
    ctx.throwIfAborted();
    if (finish === null) throw new ProviderError('provider_stream', 'the stream ended before a finishReason', { retryable: true });
    return {
      usage,
      stopReason: geminiStopReason(finish, toolCalls > 0),
      reasoning: thinking ? [reasoningBlock(ctx.reasoningId(0), thinking, null, { provider: this.name })] : [],
      ...(textSignature ? { textMeta: { thoughtSignature: textSignature } } : {}),
    };
  }
}

function geminiStopReason(finish: string, hasToolCalls: boolean): string {
  if (finish === 'STOP') return hasToolCalls ? 'tool_calls' : 'stop';
  if (finish === 'MAX_TOKENS') return 'length';
  if (finish === 'PROMPT_BLOCKED' || CONTENT_FILTER.has(finish)) return 'content_filter';
  return finish.toLowerCase();
}

import type { EngineCallOptions } from '../../inference/engine';
import { AbortedError } from '../../inference/errors';
import { MessageStream, ToolCallIdAllocator } from '../../inference/message-stream';
import { blocks as mk, toolCallIds, type Block, type BlockMeta, type ReasoningBlock, type ToolCallBlock, type Turn } from '../../inference/turn';
import type { Usage } from '../../protocol/frames';
import { parseToolArguments } from './tool-calls';
import { withProviderRetry } from './retry';
import { StreamWatchdog, type StreamTimeouts } from './stream-watchdog';

/** What one streaming attempt gets from the common call runner. */
export interface AttemptContext {
  readonly ms: MessageStream;
  /** The request's signal (give it to the SDK): fires on the run's abort or a stall timeout. */
  readonly signal: AbortSignal;
  /** 1 for the first attempt, 2 for the first retry, … */
  readonly attempt: number;
  /** Answer text: closes the thinking entity, then publishes a `partial`. */
  text(delta: string): void;
  /** Thinking text (ignored once the answer began: one thinking entity per message). */
  thinking(delta: string): void;
  /**
   * Publishes a complete tool call: its id comes from the conversation's allocator (an empty
   * or already used provider id becomes `call_<uuid>`, the provider id kept as
   * `providerCallId`); `args` is JSON text (parsed; unparsable → `{_raw}`) or a value.
   */
  toolCall(call: { providerId: string | null | undefined; name: string; args: string | unknown; meta?: BlockMeta }): void;
  /** The id of the n-th reasoning block of this message (`<messageId>:thinking`, then `…:thinking:1`, …). */
  reasoningId(n: number): string;
  /**
   * The SDK call that opens the stream → its events, watched for stalls (first-byte and idle
   * timeouts → `provider_stream`). Every engine reads its stream through this.
   */
  open<T>(request: PromiseLike<AsyncIterable<T>>): Promise<AsyncIterable<T>>;
  /**
   * Throws AbortedError when the run's signal fired, or the stall timeout's error when one
   * expired (SDK iterators end quietly on abort).
   */
  throwIfAborted(): void;
}

/** What one successful attempt found besides text and tool calls (which the context holds). */
export interface AttemptOutcome {
  usage: Usage | null;
  stopReason: string | null;
  reasoning?: ReasoningBlock[];
  /** Metadata for the `llm_text` block (e.g. Gemini's thought signature). */
  textMeta?: BlockMeta;
}

export interface ProviderCallSpec {
  provider: string;
  model: string;
  turn: Turn;
  call: EngineCallOptions;
  maxRetries?: number;
  retryBackoffMs?: number;
  /** Stall limits of each request (first byte, idle between events). */
  timeouts?: StreamTimeouts;
  secrets: readonly (string | null | undefined)[];
}

/**
 * The one path every provider engine takes: a MessageStream (lazy `start`, offsets, thinking,
 * `tool-call`, one `final`), conversation-unique tool call ids, retries only before content,
 * errors classified and logged, abort → AbortedError with no `final`, a stalled request (no
 * first event / no next event in time) → retryable `provider_stream`. Returns the turn with
 * the new blocks appended: reasoning, then `llm_text` (if any text), then `tool_call` blocks.
 */
export async function runProviderCall(spec: ProviderCallSpec, attempt: (ctx: AttemptContext) => Promise<AttemptOutcome>): Promise<Turn> {
  const { signal, run } = spec.call;
  if (signal.aborted) throw new AbortedError();
  const ms = new MessageStream(run, spec.model);
  const ids = new ToolCallIdAllocator(toolCallIds(spec.turn));
  const calls: ToolCallBlock[] = [];
  const throwIfAborted = () => { if (signal.aborted) throw new AbortedError(); };

  const outcome = await withProviderRetry(
    {
      provider: spec.provider, model: spec.model, run, signal, maxRetries: spec.maxRetries, backoffMs: spec.retryBackoffMs,
      hasContent: () => ms.hasContent, secrets: spec.secrets,
    },
    async (n) => {
      // One watchdog per request; its timers never outlive the attempt, and Stop wins over them.
      const watchdog = new StreamWatchdog(signal, spec.timeouts);
      const ctx: AttemptContext = {
        ms, signal: watchdog.signal, attempt: n,
        open: (request) => watchdog.open(request),
        throwIfAborted: () => { throwIfAborted(); watchdog.throwIfExpired(); },
        text: (d) => { if (d) { ms.endThinking(); ms.delta(d); } },
        thinking: (d) => ms.thinkingDelta(d),
        reasoningId: (i) => (i === 0 ? `${ms.messageId}:thinking` : `${ms.messageId}:thinking:${i}`),
        toolCall: ({ providerId, name, args, meta }) => {
          const { id, providerCallId } = ids.allocate(providerId);
          const input = typeof args === 'string' ? parseToolArguments(args) : (args ?? {});
          const block = mk.toolCall(id, name, input, providerCallId);
          calls.push(meta && Object.keys(meta).length ? { ...block, meta } : block);
          ms.endThinking();
          ms.toolCall({ id, name, input, providerCallId });
        },
      };
      let failed = true;
      try {
        const out = await attempt(ctx);
        throwIfAborted();
        failed = false;
        return out;
      } catch (err) {
        // Whatever the SDK made of the watchdog's abort, the stall is the error (Stop still wins).
        if (!signal.aborted && watchdog.error) throw watchdog.error;
        throw err;
      } finally {
        watchdog.dispose({ abort: failed });
      }
    },
  );

  ms.finish({ stopReason: outcome.stopReason, usage: outcome.usage });
  const added: Block[] = [...(outcome.reasoning ?? [])];
  if (ms.text) {
    const text = mk.llmText(ms.text, ms.messageId);
    added.push(outcome.textMeta && Object.keys(outcome.textMeta).length ? { ...text, meta: outcome.textMeta } : text);
  }
  added.push(...calls);
  return {
    ...spec.turn,
    blocks: [...spec.turn.blocks, ...added],
    metadata: {
      ...spec.turn.metadata,
      usage: outcome.usage ?? undefined,
      stopReason: outcome.stopReason,
      model: spec.model,
    },
  };
}

/** A reasoning block for the turn (provider-specific replay data goes in `meta`). */
export function reasoningBlock(id: string, text: string, encryptedContent: string | null, meta: BlockMeta): ReasoningBlock {
  return { kind: 'reasoning', id, text, encryptedContent, meta };
}

/** The `Usage` of the protocol from token counts (missing counts are 0). */
export function usageOf(input: number | null | undefined, output: number | null | undefined, cached: number | null | undefined): Usage {
  return { inputTokens: input ?? 0, outputTokens: output ?? 0, cachedTokens: cached ?? 0 };
}

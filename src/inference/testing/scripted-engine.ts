import type { Engine, EngineCallOptions } from '../engine';
import { AbortedError } from '../errors';
import { MessageStream, ToolCallIdAllocator } from '../message-stream';
import { blocks, toolCallIds, type Block, type Turn } from '../turn';

/** One step of a scripted LLM call. */
export type ScriptStep =
  | { text: string }
  | { thinking: string }
  | { toolCall: { name: string; args: unknown; providerId?: string } }
  | { wait: Promise<unknown> }
  | { throw: Error };

/**
 * An engine for tests: call N follows `calls[N]` (the last script repeats). Streams through
 * MessageStream like a real provider; aborts between steps.
 */
export class ScriptedEngine implements Engine {
  readonly name = 'scripted';
  readonly model = 'scripted-1';
  calls = 0;
  readonly seenTurns: Turn[] = [];

  constructor(private readonly scripts: ScriptStep[][]) {}

  async runInference(turn: Turn, opts: EngineCallOptions): Promise<Turn> {
    this.seenTurns.push(turn);
    const script = this.scripts[Math.min(this.calls, this.scripts.length - 1)] ?? [];
    this.calls++;
    const ms = new MessageStream(opts.run, this.model);
    const ids = new ToolCallIdAllocator(toolCallIds(turn));
    const added: Block[] = [];
    const abortable = (p: Promise<unknown>) =>
      new Promise<unknown>((resolve, reject) => {
        if (opts.signal.aborted) return reject(new AbortedError());
        opts.signal.addEventListener('abort', () => reject(new AbortedError()), { once: true });
        p.then(resolve, reject);
      });
    for (const step of script) {
      if (opts.signal.aborted) throw new AbortedError();
      if ('text' in step) ms.delta(step.text);
      else if ('thinking' in step) ms.thinkingDelta(step.thinking);
      else if ('toolCall' in step) {
        const { id, providerCallId } = ids.allocate(step.toolCall.providerId ?? null);
        ms.toolCall({ id, name: step.toolCall.name, input: step.toolCall.args, providerCallId });
        added.push(blocks.toolCall(id, step.toolCall.name, step.toolCall.args, providerCallId));
      } else if ('wait' in step) await abortable(step.wait);
      else if ('throw' in step) throw step.throw;
    }
    ms.finish({ stopReason: added.length ? 'tool_calls' : 'stop', usage: { inputTokens: 10, outputTokens: 5, cachedTokens: 0 } });
    const out: Block[] = [];
    if (ms.thinking) out.push(blocks.reasoning(ms.thinking, `${ms.messageId}:thinking`));
    if (ms.text) out.push(blocks.llmText(ms.text, ms.messageId));
    return { ...turn, blocks: [...turn.blocks, ...out, ...added] };
  }
}

/** A promise with its resolver, for tests that hold an engine or tool mid-way. */
export function deferred<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Collects events published to it. */
export function collector() {
  const events: import('../events').InferenceEvent[] = [];
  return { events, sink: { publish: (e: import('../events').InferenceEvent) => void events.push(e) }, types: () => events.map((e) => e.type) };
}

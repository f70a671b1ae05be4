import { setImmediate as yieldNow } from 'node:timers/promises';
import type { Engine, EngineCallOptions } from '../../inference/engine';
import { AbortedError, ProviderError } from '../../inference/errors';
import { MessageStream, ToolCallIdAllocator } from '../../inference/message-stream';
import { blocks, toolCallIds, type Block, type ToolCallBlock, type ToolUseBlock, type Turn } from '../../inference/turn';
import { RUN_ERROR_CODES, type RunErrorCode } from '../../protocol/errors';
import { echoReply, planFor, streamText, wordChunks } from './demo-script';

export interface DemoEngineOptions {
  /** Delay between chunks (default 15 ms); `/stream N MS` overrides it per prompt. */
  chunkDelayMs?: number;
  model?: string;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new AbortedError());
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortedError());
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The offline `demo` engine: deterministic and scriptable (the default profile, and what tests
 * and the bench drive). It streams like a real provider — lazy start, word deltas, thinking,
 * tool calls, usage — and honours its AbortSignal between chunks.
 */
export class DemoEngine implements Engine {
  readonly name = 'demo';
  readonly model: string;
  private readonly delay: number;

  constructor(opts: DemoEngineOptions = {}) {
    this.delay = opts.chunkDelayMs ?? 15;
    this.model = opts.model ?? 'demo-1';
  }

  async runInference(turn: Turn, opts: EngineCallOptions): Promise<Turn> {
    const { signal } = opts;
    if (signal.aborted) throw new AbortedError();
    const ms = new MessageStream(opts.run, this.model);
    const lastUser = findLastIndex(turn.blocks, (b) => b.kind === 'user');
    const prompt = lastUser >= 0 ? (turn.blocks[lastUser] as { text: string }).text : '';
    const after = turn.blocks.slice(lastUser + 1);
    const answers = after.filter((b): b is ToolUseBlock => b.kind === 'tool_use');
    // `/stamp N MS` exists only when the bench starts the server with WEBCHAT_BENCH=1.
    const plan = planFor(prompt, { bench: process.env.WEBCHAT_BENCH === '1' });
    const added: Block[] = [];
    let delay = this.delay;

    if (answers.length > 0) {
      // Second step: the tools answered; write the final answer from their results.
      const calls = after.filter((b): b is ToolCallBlock => b.kind === 'tool_call');
      await this.stream(ms, summarize(plan.kind, calls, answers), delay, signal);
    } else {
      switch (plan.kind) {
        case 'stream':
          if (plan.delayMs !== null) delay = plan.delayMs;
          await this.stream(ms, streamText(plan.words), delay, signal);
          break;
        case 'think':
          await this.streamThinking(ms, 'The user wants to see thinking. I will think in a few short steps, then answer.', delay, signal);
          await this.stream(ms, 'Here is the answer after thinking: thinking is shown collapsed above.', delay, signal);
          break;
        case 'error': {
          await this.stream(ms, 'Something went wrong', delay, signal);
          const code = (RUN_ERROR_CODES as readonly string[]).includes(plan.code) ? (plan.code as RunErrorCode) : 'provider_bad_request';
          throw new ProviderError(code, `demo engine: simulated ${plan.code}`, { retryable: false });
        }
        case 'calc':
        case 'tools': {
          const exprs = plan.kind === 'calc' ? [plan.expression] : Array.from({ length: plan.count }, (_, i) => `${i + 1}*${i + 1}`);
          await this.stream(ms, plan.kind === 'calc' ? 'Let me calculate that.' : `Running ${exprs.length} calculations.`, delay, signal);
          const ids = new ToolCallIdAllocator(toolCallIds(turn));
          for (const expression of exprs) {
            if (delay > 0) await sleep(delay, signal);
            const { id, providerCallId } = ids.allocate(null);
            ms.toolCall({ id, name: 'calc', input: { expression }, providerCallId });
            added.push(blocks.toolCall(id, 'calc', { expression }, providerCallId));
          }
          break;
        }
        case 'echo':
          await this.stream(ms, echoReply(plan.prompt), delay, signal);
          break;
        case 'stamp':
          await this.streamStamps(ms, plan.count, plan.delayMs, signal);
          break;
      }
    }
    if (signal.aborted) throw new AbortedError();
    const inputTokens = Math.ceil(JSON.stringify(turn.blocks).length / 4);
    ms.finish({ stopReason: added.length > 0 ? 'tool_calls' : 'stop', usage: { inputTokens, outputTokens: wordChunks(ms.text).length + added.length, cachedTokens: 0 } });
    const out: Block[] = [];
    if (ms.thinking) out.push(blocks.reasoning(ms.thinking, `${ms.messageId}:thinking`));
    if (ms.text) out.push(blocks.llmText(ms.text, ms.messageId));
    return { ...turn, blocks: [...turn.blocks, ...out, ...added] };
  }

  private async stream(ms: MessageStream, text: string, delay: number, signal: AbortSignal): Promise<void> {
    const chunks = wordChunks(text);
    for (let i = 0; i < chunks.length; i++) {
      if (delay > 0) await sleep(delay, signal);
      else if (i % 64 === 63) await yieldNow(); // never starve the event loop
      if (signal.aborted) throw new AbortedError();
      ms.delta(chunks[i]!);
    }
  }

  /** Bench only: each delta is `t<epoch ms, 3 decimals>` taken when it is produced (latency probes). */
  private async streamStamps(ms: MessageStream, count: number, delay: number, signal: AbortSignal): Promise<void> {
    for (let i = 0; i < count; i++) {
      if (delay > 0) await sleep(delay, signal);
      else if (i % 64 === 63) await yieldNow();
      if (signal.aborted) throw new AbortedError();
      ms.delta(`${i === 0 ? '' : ' '}t${(performance.timeOrigin + performance.now()).toFixed(3)}`);
    }
  }

  private async streamThinking(ms: MessageStream, text: string, delay: number, signal: AbortSignal): Promise<void> {
    for (const c of wordChunks(text)) {
      if (delay > 0) await sleep(delay, signal);
      if (signal.aborted) throw new AbortedError();
      ms.thinkingDelta(c);
    }
    ms.endThinking();
  }
}

function summarize(kind: string, calls: ToolCallBlock[], answers: ToolUseBlock[]): string {
  const value = (a: ToolUseBlock | undefined): string => {
    if (!a) return 'no result';
    if (a.status !== 'completed') return `${a.status}${a.error ? ` (${a.error})` : ''}`;
    const r = a.result as { result?: unknown } | null;
    return r && typeof r === 'object' && 'result' in r ? String(r.result) : JSON.stringify(a.result);
  };
  const byId = new Map(answers.map((a) => [a.id, a]));
  if (kind === 'calc' && calls.length === 1) {
    const a = byId.get(calls[0]!.id);
    return a?.status === 'completed' ? `The answer is ${value(a)}.` : `I could not compute that: ${value(a)}.`;
  }
  return `Computed ${calls.length} results: ${calls.map((c) => value(byId.get(c.id))).join(', ')}.`;
}

function findLastIndex<T>(xs: readonly T[], pred: (x: T) => boolean): number {
  for (let i = xs.length - 1; i >= 0; i--) if (pred(xs[i]!)) return i;
  return -1;
}

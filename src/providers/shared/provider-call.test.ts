/**
 * The stall watchdog as `runProviderCall` wires it, with fake timers: every attempt's timers are
 * gone when the call ends (completed, failed, cancelled), a stall before content is retried, a
 * stall after content is final, and Stop during a stall is a cancel, never a timeout.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Engine } from '../../inference/engine';
import { AbortedError, ProviderError } from '../../inference/errors';
import { blocks, newTurn } from '../../inference/turn';
import { ofType, runEngine, type RunResult } from '../testing/harness';
import { runProviderCall, type AttemptContext, type AttemptOutcome } from './provider-call';

type Attempt = (ctx: AttemptContext) => Promise<AttemptOutcome>;

function engine(attempt: Attempt, opts: { maxRetries?: number } = {}): Engine {
  return {
    name: 'fake', model: 'fake-1',
    runInference: (turn, call) => runProviderCall(
      { provider: 'fake', model: 'fake-1', turn, call, maxRetries: opts.maxRetries ?? 0, retryBackoffMs: 1, timeouts: { firstByteTimeoutMs: 200, idleTimeoutMs: 300 }, secrets: [] },
      attempt,
    ),
  };
}

/** A source the attempt reads through `ctx.open`: yields `deltas`, then ends or stalls; ends quietly on abort like the SDKs. */
function source(signal: AbortSignal, deltas: string[], then: 'end' | 'stall'): AsyncIterable<string> {
  return (async function* () {
    for (const d of deltas) yield d;
    if (then === 'end') return;
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  })();
}

/** An attempt streaming text from `source` the way the engines do (break on abort, then check). */
const streaming = (deltas: string[], then: 'end' | 'stall'): Attempt => async (ctx) => {
  const stream = await ctx.open(Promise.resolve(source(ctx.signal, deltas, then)));
  for await (const d of stream) {
    if (ctx.signal.aborted) break;
    ctx.text(d);
  }
  ctx.throwIfAborted();
  return { usage: null, stopReason: 'stop' };
};

/** An attempt whose request never gets an answer (no headers): it only settles when aborted. */
const silent: Attempt = async (ctx) => {
  const never = new Promise<AsyncIterable<string>>((_, reject) => ctx.signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')), { once: true }));
  for await (const d of await ctx.open(never)) ctx.text(d);
  return { usage: null, stopReason: 'stop' };
};

const turn = () => newTurn([blocks.user('hi')]);

async function settle(p: Promise<RunResult>): Promise<RunResult> {
  let done = false;
  void p.then(() => { done = true; });
  for (let i = 0; i < 100 && !done; i++) await vi.advanceTimersByTimeAsync(50);
  return p;
}

describe('runProviderCall: stalls', () => {
  beforeEach(() => { vi.useFakeTimers(); });
  afterEach(() => { vi.useRealTimers(); });

  it('a completed stream leaves no pending timer', async () => {
    const r = await settle(runEngine(engine(streaming(['Hel', 'lo'], 'end')), turn()));
    expect(r.error).toBeNull();
    expect(ofType(r.events, 'final')[0]!.text).toBe('Hello');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a request failing on its own (401) leaves no pending timer, and no timeout fires later', async () => {
    const r = await settle(runEngine(engine(async () => { throw Object.assign(new Error('Incorrect API key provided'), { status: 401 }); }), turn()));
    expect(r.error).toMatchObject({ code: 'provider_auth' });
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(ofType(r.events, 'log')).toHaveLength(1);
  });

  it('no answer at all → provider_stream (first_byte_timeout_ms), no message, no timer left', async () => {
    const r = await settle(runEngine(engine(silent), turn()));
    expect(r.error).toBeInstanceOf(ProviderError);
    expect(r.error).toMatchObject({ code: 'provider_stream' });
    expect((r.error as Error).message).toMatch(/nothing for 200 ms.*first_byte_timeout_ms/);
    expect(r.events.map((e) => e.type)).toEqual(['log']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a stall before content is retried like other stream errors, then the retry completes', async () => {
    let n = 0;
    const r = await settle(runEngine(engine((ctx) => (++n === 1 ? streaming([], 'stall')(ctx) : streaming(['fine'], 'end')(ctx)), { maxRetries: 2 }), turn()));
    expect(r.error).toBeNull();
    expect(n).toBe(2);
    const [warn] = ofType(r.events, 'log');
    expect(warn).toMatchObject({ level: 'warn', fields: { code: 'provider_stream', attempt: 1 } });
    expect(String(warn!.fields?.error)).toMatch(/first_byte_timeout_ms/);
    expect(ofType(r.events, 'final')[0]!.text).toBe('fine');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a stall after content → provider_stream (idle_timeout_ms), not retried, no final', async () => {
    let n = 0;
    const r = await settle(runEngine(engine((ctx) => { n++; return streaming(['Hel'], 'stall')(ctx); }, { maxRetries: 2 }), turn()));
    expect(r.error).toMatchObject({ code: 'provider_stream' });
    expect((r.error as Error).message).toMatch(/stalled: nothing for 300 ms after event 1 \(idle_timeout_ms\)/);
    expect(n).toBe(1);
    expect(ofType(r.events, 'partial').map((p) => p.delta)).toEqual(['Hel']);
    expect(ofType(r.events, 'final')).toHaveLength(0);
    expect(ofType(r.events, 'log').map((l) => l.level)).toEqual(['error']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('Stop during a stall ends cancelled (AbortedError), never provider_stream, and no timer fires later', async () => {
    for (const attempt of [silent, streaming(['Hel'], 'stall')]) {
      const controller = new AbortController();
      const p = runEngine(engine(attempt), turn(), { controller });
      await vi.advanceTimersByTimeAsync(100); // inside the stall, before either timeout
      controller.abort();
      const r = await settle(p);
      expect(r.error).toBeInstanceOf(AbortedError);
      expect(ofType(r.events, 'log')).toHaveLength(0);
      expect(vi.getTimerCount()).toBe(0);
      await vi.advanceTimersByTimeAsync(10_000);
      expect(ofType(r.events, 'log')).toHaveLength(0);
    }
  });
});

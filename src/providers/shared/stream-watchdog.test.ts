import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ProviderError } from '../../inference/errors';
import { DEFAULT_FIRST_BYTE_TIMEOUT_MS, DEFAULT_IDLE_TIMEOUT_MS, StreamWatchdog } from './stream-watchdog';

/** A stream whose events the test releases one by one (`push`), or ends (`end`). */
function manualStream<T>() {
  const queue: T[] = [];
  let ended = false;
  let wake: (() => void) | null = null;
  let returned = 0;
  const iterable: AsyncIterable<T> = {
    [Symbol.asyncIterator]: () => ({
      next: async () => {
        while (!queue.length && !ended) await new Promise<void>((r) => { wake = r; });
        return queue.length ? { done: false as const, value: queue.shift()! } : { done: true as const, value: undefined };
      },
      return: async () => { returned++; return { done: true as const, value: undefined }; },
    }),
  };
  return {
    iterable,
    push(v: T) { queue.push(v); wake?.(); },
    end() { ended = true; wake?.(); },
    get returned() { return returned; },
  };
}

/** Lets pending promise callbacks run (fake timers do not touch microtasks). */
const flush = () => vi.advanceTimersByTimeAsync(0);

describe('StreamWatchdog', () => {
  beforeEach(() => { vi.useFakeTimers(); });
  afterEach(() => { vi.useRealTimers(); });

  it('a stream that completes leaves no pending timer, no error, the signal untouched', async () => {
    const run = new AbortController();
    const w = new StreamWatchdog(run.signal, { firstByteTimeoutMs: 100, idleTimeoutMs: 100 });
    expect(w.pending).toBe(true);
    const s = manualStream<number>();
    const events = w.open(Promise.resolve(s.iterable));
    const got: number[] = [];
    const reading = (async () => { for await (const n of await events) got.push(n); })();
    for (let i = 0; i < 5; i++) {
      await vi.advanceTimersByTimeAsync(90); // each gap is under the idle limit: every event restarts it
      s.push(i);
      await flush();
    }
    s.end();
    await reading;
    expect(got).toEqual([0, 1, 2, 3, 4]);
    expect(w.pending).toBe(false);
    w.dispose();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(w.error).toBeNull();
    expect(w.signal.aborted).toBe(false);
  });

  it('no first event in time → provider_stream naming first_byte_timeout_ms, the request aborted, the open rejected', async () => {
    const run = new AbortController();
    const w = new StreamWatchdog(run.signal, { firstByteTimeoutMs: 250, idleTimeoutMs: 1000 });
    const headers = new Promise<AsyncIterable<number>>(() => {}); // the provider never answers
    const opened = w.open(headers);
    const outcome = opened.then(() => 'opened', (e: unknown) => e);
    await vi.advanceTimersByTimeAsync(249);
    expect(w.error).toBeNull();
    await vi.advanceTimersByTimeAsync(1);
    const err = await outcome;
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toBe(w.error);
    expect(w.error).toMatchObject({ code: 'provider_stream', retryable: true });
    expect(w.error!.message).toMatch(/first_byte_timeout_ms/);
    expect(w.error!.message).toMatch(/250 ms/);
    expect(w.signal.aborted).toBe(true);
    expect(w.signal.reason).toBe(w.error);
    expect(() => w.throwIfExpired()).toThrow(w.error!);
    w.dispose();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('headers then nothing: still the first-byte timeout (headers are not an event)', async () => {
    const w = new StreamWatchdog(new AbortController().signal, { firstByteTimeoutMs: 200, idleTimeoutMs: 5000 });
    const s = manualStream<number>();
    const events = await w.open(Promise.resolve(s.iterable));
    const next = events[Symbol.asyncIterator]().next().then(() => 'event', (e: unknown) => e);
    await vi.advanceTimersByTimeAsync(200);
    expect(await next).toBe(w.error);
    expect(w.error!.message).toMatch(/first_byte_timeout_ms/);
    w.dispose();
  });

  it('one event then a stall → provider_stream naming idle_timeout_ms; the pending next() rejects', async () => {
    const w = new StreamWatchdog(new AbortController().signal, { firstByteTimeoutMs: 5000, idleTimeoutMs: 300 });
    const s = manualStream<string>();
    const it = (await w.open(Promise.resolve(s.iterable)))[Symbol.asyncIterator]();
    s.push('Hel');
    expect(await it.next()).toEqual({ done: false, value: 'Hel' });
    const next = it.next().then(() => 'event', (e: unknown) => e);
    await vi.advanceTimersByTimeAsync(299);
    expect(w.error).toBeNull();
    await vi.advanceTimersByTimeAsync(1);
    expect(await next).toBe(w.error);
    expect(w.error!.message).toMatch(/idle_timeout_ms/);
    expect(w.error!.message).toMatch(/300 ms after event 1/);
    expect(w.signal.aborted).toBe(true);
    // A later next() fails at once with the same error.
    await expect(it.next()).rejects.toBe(w.error);
    w.dispose();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('the run aborted during a stall: the request is aborted, the timers cleared, no timeout ever', async () => {
    const run = new AbortController();
    const w = new StreamWatchdog(run.signal, { firstByteTimeoutMs: 100, idleTimeoutMs: 100 });
    const s = manualStream<number>();
    const it = (await w.open(Promise.resolve(s.iterable)))[Symbol.asyncIterator]();
    s.push(1);
    await it.next();
    await vi.advanceTimersByTimeAsync(50);
    run.abort();
    expect(w.signal.aborted).toBe(true);
    expect(w.pending).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(w.error).toBeNull();
    expect(() => w.throwIfExpired()).not.toThrow();
    w.dispose();
  });

  it('a run already aborted: no timer at all', () => {
    const run = new AbortController();
    run.abort();
    const w = new StreamWatchdog(run.signal, { firstByteTimeoutMs: 100 });
    expect(w.signal.aborted).toBe(true);
    expect(w.pending).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('dispose clears the timer and detaches from the run; abort: true tears the request down', async () => {
    const run = new AbortController();
    const w = new StreamWatchdog(run.signal, { firstByteTimeoutMs: 100 });
    w.dispose();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(1000);
    expect(w.error).toBeNull();
    run.abort(); // detached: the disposed request is not touched
    expect(w.signal.aborted).toBe(false);

    const w2 = new StreamWatchdog(new AbortController().signal, { firstByteTimeoutMs: 100 });
    w2.dispose({ abort: true });
    expect(w2.signal.aborted).toBe(true);
    expect(w2.error).toBeNull();
  });

  it('leaving the stream early (break) returns the source iterator', async () => {
    const w = new StreamWatchdog(new AbortController().signal, { firstByteTimeoutMs: 100, idleTimeoutMs: 100 });
    const s = manualStream<number>();
    s.push(1);
    s.push(2);
    for await (const n of await w.open(Promise.resolve(s.iterable))) if (n === 1) break;
    expect(s.returned).toBe(1);
    w.dispose();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('defaults are 60 s each; invalid limits fall back to them', async () => {
    expect([DEFAULT_FIRST_BYTE_TIMEOUT_MS, DEFAULT_IDLE_TIMEOUT_MS]).toEqual([60_000, 60_000]);
    const w = new StreamWatchdog(new AbortController().signal, { firstByteTimeoutMs: Number.NaN, idleTimeoutMs: -1 });
    await vi.advanceTimersByTimeAsync(59_999);
    expect(w.error).toBeNull();
    await vi.advanceTimersByTimeAsync(1);
    expect(w.error!.message).toMatch(/60000 ms/);
  });
});

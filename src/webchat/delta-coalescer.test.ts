import { afterEach, describe, expect, it, vi } from 'vitest';
import { DeltaCoalescer } from './delta-coalescer';
import type { AnyFrameSpec } from './translator';

const delta = (id: string, delta: string, offset: number, type: 'llm.delta' | 'llm.thinking.delta' = 'llm.delta'): AnyFrameSpec =>
  ({ type, id, data: { id, delta, offset }, metadata: null, inferenceId: 'inf-1' }) as AnyFrameSpec;
const final = (id: string, text: string): AnyFrameSpec => ({ type: 'llm.final', id, data: { id, text }, metadata: null, inferenceId: 'inf-1' });

/** Drives the coalescer exactly as the log does (offer → release → offer), recording appends. */
function harness(windowMs: number) {
  const out: AnyFrameSpec[] = [];
  const c: DeltaCoalescer = new DeltaCoalescer(windowMs, () => {
    const h = c.release();
    if (h) out.push(h);
  });
  const append = (s: AnyFrameSpec, now: number) => {
    if (c.offer(s, now)) return;
    const h = c.release();
    if (h) out.push(h);
    if (c.offer(s, now)) return;
    out.push(s);
  };
  return { c, out, append };
}

afterEach(() => vi.useRealTimers());

describe('DeltaCoalescer', () => {
  it('merges consecutive deltas of one message within the window: first offset, concatenated text', () => {
    const { out, append } = harness(25);
    append(delta('m', 'Hel', 0), 1000);
    append(delta('m', 'lo ', 3), 1005);
    append(delta('m', 'world', 6), 1010);
    append(final('m', 'Hello world'), 1011);
    expect(out.map((s) => s.type)).toEqual(['llm.delta', 'llm.final']);
    expect(out[0]!.data).toEqual({ id: 'm', delta: 'Hello world', offset: 0 });
  });

  it('a delta outside the window, of another message, kind or run, or not contiguous starts a new frame', () => {
    const { out, append } = harness(25);
    append(delta('m', 'a', 0), 1000);
    append(delta('m', 'b', 1), 1030); // window closed (30 ms after the held one's first delta)
    append(delta('m:thinking', 'x', 0, 'llm.thinking.delta'), 1031);
    append(delta('m2', 'c', 0), 1032);
    append(delta('m2', 'e', 5), 1033); // offset gap: never merged
    append({ ...delta('m2', 'f', 6), inferenceId: 'inf-2' } as AnyFrameSpec, 1034);
    append(final('m2', 'done'), 1035);
    expect(out.map((s) => [s.type, (s.data as { delta?: string }).delta ?? null])).toEqual([
      ['llm.delta', 'a'], ['llm.delta', 'b'], ['llm.thinking.delta', 'x'], ['llm.delta', 'c'], ['llm.delta', 'e'], ['llm.delta', 'f'], ['llm.final', null],
    ]);
  });

  it('releases a held delta when its window closes, and never mutates the offered spec', () => {
    vi.useFakeTimers();
    const { c, out, append } = harness(25);
    const first = delta('m', 'Hi', 0);
    append(first, Date.now());
    append(delta('m', '!', 2), Date.now());
    expect(out).toEqual([]);
    expect(c.holding).toBe(true);
    vi.advanceTimersByTime(25);
    expect(c.holding).toBe(false);
    expect(out.map((s) => s.data)).toEqual([{ id: 'm', delta: 'Hi!', offset: 0 }]);
    expect(first.data).toEqual({ id: 'm', delta: 'Hi', offset: 0 });
  });

  it('a non-delta frame is never held', () => {
    const { c, out, append } = harness(25);
    append(final('m', 'x'), 1);
    expect(c.holding).toBe(false);
    expect(out).toHaveLength(1);
  });
});

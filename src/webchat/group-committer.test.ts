import { describe, expect, it } from 'vitest';
import { GroupCommitter, type CommitParticipant } from './group-committer';
import { emptyBatch, type CommitBatch, type Store } from './store/store';
import { noopMetrics } from './webchat-metrics';

/** A store whose commit takes `cost` ms of (simulated) time and records the batch sizes. */
function slowStore(costMs: () => number, fail: { n: number } = { n: 0 }) {
  const sizes: number[] = [];
  const store = {
    commit: async (b: CommitBatch) => {
      if (fail.n > 0) {
        fail.n--;
        throw new Error('disk full');
      }
      const until = performance.now() + costMs();
      while (performance.now() < until) { /* a synchronous store blocks the loop */ }
      sizes.push(b.frames.length);
    },
  } as unknown as Store;
  return { store, sizes };
}

function participant(c: GroupCommitter, convId: string) {
  const committed: number[] = [];
  let seq = 0;
  const p: CommitParticipant = { convId, contribute: () => {}, committed: (s) => void committed.push(s) };
  return {
    committed,
    append() {
      seq++;
      c.batch.frames.push({ convId, seq, epoch: 'e', type: 'log', entityId: 'x', json: '{}', createdAtMs: 0 });
      c.note(p, seq);
      return seq;
    },
  };
}

describe('GroupCommitter', () => {
  it('commits everything appended, in order, exactly once, and flush() waits for it', async () => {
    const { store, sizes } = slowStore(() => 0);
    const c = new GroupCommitter(store, { windowMs: 1, maxFrames: 50, metrics: noopMetrics });
    const a = participant(c, 'a');
    const b = participant(c, 'b');
    for (let i = 0; i < 120; i++) {
      a.append();
      if (i % 3 === 0) b.append();
      if (i % 10 === 0) await new Promise((r) => setImmediate(r));
    }
    await c.flush();
    expect(sizes.reduce((x, y) => x + y, 0)).toBe(160);
    expect(a.committed[a.committed.length - 1]).toBe(120);
    expect(a.committed).toEqual([...a.committed].sort((x, y) => x - y));
    expect(b.committed[b.committed.length - 1]).toBe(40);
  });

  it('stretches the window with the cost of a commit, up to the cap', async () => {
    const { store } = slowStore(() => 8);
    const c = new GroupCommitter(store, { windowMs: 2, maxWindowMs: 25, maxFrames: 10_000, metrics: noopMetrics });
    expect(c.windowMs()).toBe(2);
    const a = participant(c, 'a');
    for (let i = 0; i < 20; i++) {
      a.append();
      await c.flush();
    }
    expect(c.windowMs()).toBeGreaterThan(10);
    expect(c.windowMs()).toBeLessThanOrEqual(25);
  });

  it('retries a failed commit until it succeeds; nothing is reported committed before; health flips', async () => {
    const fail = { n: 2 };
    const health: boolean[] = [];
    const { store, sizes } = slowStore(() => 0, fail);
    const c = new GroupCommitter(store, { windowMs: 1, maxFrames: 100, metrics: noopMetrics, onHealth: (h) => void health.push(h) });
    const a = participant(c, 'a');
    a.append();
    a.append();
    await c.flush();
    expect(sizes).toEqual([2]);
    expect(a.committed).toEqual([2]);
    expect(health).toEqual([false, false, true]);
    expect(c.healthy).toBe(true);
  });

  it('whenCommitted resolves once the rows pushed so far are committed, after retries; turn snapshots ride the batch', async () => {
    const fail = { n: 2 };
    const batches: CommitBatch[] = [];
    const store = {
      commit: async (b: CommitBatch) => {
        if (fail.n > 0) {
          fail.n--;
          throw new Error('database or disk is full');
        }
        batches.push(b);
      },
    } as unknown as Store;
    const c = new GroupCommitter(store, { windowMs: 1, maxFrames: 100, metrics: noopMetrics });
    const a = participant(c, 'a');
    a.append();
    c.batch.turnSnapshots.push({ convId: 'a', turnId: 't', phase: 'final', inferenceId: 'i', status: 'completed', createdAtMs: 0, blocks: [], metadata: {} });
    let done = false;
    const p = c.whenCommitted().then(() => (done = true));
    a.append();
    while (c.healthy) await new Promise((r) => setTimeout(r, 1));
    expect(done).toBe(false); // the commit failed: not committed
    await p;
    expect(batches).toHaveLength(1);
    expect(batches[0]!.frames.map((f) => f.seq)).toEqual([1, 2]);
    expect(batches[0]!.turnSnapshots.map((s) => s.turnId)).toEqual(['t']);
    expect(c.healthy).toBe(true);
    expect(emptyBatch().turnSnapshots).toEqual([]);
  });
});

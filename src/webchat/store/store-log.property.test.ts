import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { batch } from './store-fixtures';
import type { StoredFrame } from './store';
import { ENGINE_ROWS } from './store-test-engines';

/**
 * The frame log of every engine against a model (a plain array per conversation): random
 * interleavings of appends across 50 conversations, group commits, reads with random `since`
 * and `limit`, restarts (close + reopen), epoch changes, rejected commits (a seq at or below
 * the head: the whole batch rolls back) and deletes; for SQLite's chunked log also index
 * flushes (small thresholds so they happen all the time, plus the lag rule) and a small stream
 * cache (pruned all the time). Every read must return exactly the committed frames above
 * `since`, in seq order, byte-identical — from the writer and from a second connection.
 */

/** Runs per engine (same seed): PostgreSQL pays a round trip per operation. */
const RUNS = { sqlite: 40, "sqlite-inline": 20, postgres: 12 } as const;

const CONVS = 50;
const convId = (i: number) => `conv-${i}`;

type Op =
  | { kind: 'append'; conv: number; n: number; text: string; envelope: boolean }
  | { kind: 'commit' }
  | { kind: 'bad-commit'; conv: number }
  | { kind: 'read'; conv: number; since: number; limit: number; other: boolean }
  | { kind: 'restart' }
  | { kind: 'epoch'; conv: number }
  | { kind: 'delete'; conv: number };

const conv = fc.nat(CONVS - 1);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 10, arbitrary: fc.record({ kind: fc.constant('append' as const), conv, n: fc.integer({ min: 1, max: 6 }), text: fc.string({ unit: 'grapheme', maxLength: 30 }), envelope: fc.boolean() }) },
  { weight: 4, arbitrary: fc.constant({ kind: 'commit' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('bad-commit' as const), conv }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('read' as const), conv, since: fc.integer({ min: -1, max: 60 }), limit: fc.integer({ min: 1, max: 80 }), other: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'restart' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('epoch' as const), conv }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), conv }) },
);

describe.each(ENGINE_ROWS)('frame log (property, %s)', (name, engine) => {
  it('every read returns exactly the committed frames above `since`, in order, byte-identical', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArb, { minLength: 20, maxLength: 250 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 3, max: 60 }),
        fc.integer({ min: 1, max: 60 }),
        async (ops, indexFlushChunks, indexMaxLag, maxCachedConversations) => {
          const db = await engine.create();
          const open = () => db.open({ sqliteLog: { indexFlushChunks, indexMaxLag, maxCachedConversations } });
          let store = await open();
          const reader = await open(); // a second connection on the same file
          const committed = new Map<string, StoredFrame[]>();
          const heads = new Map<string, number>(); // highest seq assigned (committed or pending)
          const epochs = new Map<string, string>();
          let pending: StoredFrame[] = [];
          let clock = 1_700_000_000_000;
          try {
            for (const op of ops) {
              if (op.kind === 'append') {
                const c = convId(op.conv);
                for (let k = 0; k < op.n; k++) {
                  const seq = (heads.get(c) ?? 0) + 1;
                  heads.set(c, seq);
                  const type = k % 2 ? 'llm.delta' : 'tool.call';
                  const id = `${op.text}-${c}`;
                  const json = op.envelope ? JSON.stringify({ sem: true, event: { type, id, seq, data: { delta: op.text } } }) : JSON.stringify([op.text, seq]);
                  clock += (seq * 7919) % 13;
                  pending.push({ convId: c, seq, epoch: epochs.get(c) ?? 'ep-0', type, entityId: id, json, createdAtMs: clock });
                }
              } else if (op.kind === 'commit') {
                // a batch interleaves conversations; within one conversation seqs ascend
                await store.commit(batch({ frames: pending }));
                for (const f of pending) committed.set(f.convId, [...(committed.get(f.convId) ?? []), f]);
                pending = [];
              } else if (op.kind === 'bad-commit') {
                const c = convId(op.conv);
                const have = committed.get(c) ?? [];
                if (have.length === 0) continue;
                const stale = { ...have[have.length - 1]!, json: '"stale"' };
                await expect(store.commit(batch({ frames: [...pending, stale] }))).rejects.toThrow(/not above its committed head/);
                // nothing of that batch was applied; the pending frames commit with the next batch
              } else if (op.kind === 'read') {
                const c = convId(op.conv);
                const want = (committed.get(c) ?? []).filter((f) => f.seq > op.since).slice(0, op.limit);
                const got = await (op.other ? reader : store).readFrames(c, op.since, op.limit);
                expect(got).toEqual(want);
                const head = await (op.other ? reader : store).logHead(c);
                expect(head.lastSeq).toBe((committed.get(c) ?? []).at(-1)?.seq ?? 0);
              } else if (op.kind === 'restart') {
                await store.close();
                store = await open();
              } else if (op.kind === 'epoch') {
                const c = convId(op.conv);
                epochs.set(c, `ep-${(Number((epochs.get(c) ?? 'ep-0').slice(3)) + 1)}`);
              } else {
                const c = convId(op.conv);
                pending = pending.filter((f) => f.convId !== c);
                await store.deleteConversation(c, clock);
                committed.delete(c);
                heads.delete(c);
              }
            }
            await store.commit(batch({ frames: pending }));
            for (const f of pending) committed.set(f.convId, [...(committed.get(f.convId) ?? []), f]);
            await store.close();
            store = await open();
            for (let i = 0; i < CONVS; i++) {
              const c = convId(i);
              const all = committed.get(c) ?? [];
              expect(await store.readFrames(c, 0, 10_000)).toEqual(all);
              expect(await reader.readFrames(c, 0, 10_000)).toEqual(all);
            }
          } finally {
            await store.close();
            await reader.close();
            await db.drop();
          }
        },
      ),
      { seed: 20261206, numRuns: RUNS[name] },
    );
  }, 120_000);
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Block } from '../../inference/turn';
import type { Store, TurnSnapshot } from './store';
import { batch, conversation, frame, upsert } from './store-fixtures';
import { ENGINE_ROWS, type TestDatabase } from './store-test-engines';

/** Turn snapshots inside a group-commit batch (`CommitBatch.turnSnapshots`): one transaction with the frames. */

let db: TestDatabase;
let store: Store;

const user = (id: string, text: string): Block => ({ kind: 'user', id, text });
const answer = (id: string, text: string): Block => ({ kind: 'llm_text', id, text });
const snap = (turnId: string, phase: TurnSnapshot['phase'], blocks: Block[], status: string | null = null): TurnSnapshot => ({
  convId: 'c', turnId, phase, inferenceId: `inf-${turnId}`, status, createdAtMs: 5, blocks, metadata: { sessionId: 'c', status },
});

describe.each(ENGINE_ROWS)('CommitBatch.turnSnapshots (%s)', (_name, engine) => {
  beforeEach(async () => {
    db = await engine.create();
    store = await db.open();
  });
  afterEach(async () => {
    await db.drop();
  });

  it('are written with the frames of the batch, later ones of a turn replacing earlier ones', async () => {
    const u = user('u1', 'hi');
    await store.commit(batch({
      conversations: [upsert(conversation('c'))],
      frames: [frame('c', 1), frame('c', 2)],
      turnSnapshots: [snap('t1', 'pre_inference', [u]), snap('t1', 'final', [u, answer('a1', 'draft')]), snap('t1', 'final', [u, answer('a1', 'hello')], 'completed')],
    }));
    const turns = await store.loadTurns('c');
    expect(turns.map((t) => [t.turnId, t.phase, t.status, t.blocks])).toEqual([['t1', 'final', 'completed', [u, answer('a1', 'hello')]]]);
    expect((await store.logHead('c')).lastSeq).toBe(2);
    // blocks are stored once by content hash, as with saveTurnSnapshot
    expect(await db.countRows('blocks')).toBe(3);
  });

  it('roll back with the rest of the batch: a failed commit stores no snapshot and no frame', async () => {
    await store.commit(batch({ conversations: [upsert(conversation('c'))], frames: [frame('c', 1)] }));
    // seq 1 again: the frame insert fails, so the whole transaction rolls back
    await expect(store.commit(batch({ frames: [frame('c', 1)], turnSnapshots: [snap('t1', 'final', [user('u1', 'x')])] }))).rejects.toThrow();
    expect(await store.loadTurns('c')).toEqual([]);
    expect(await db.countRows('blocks')).toBe(0);
    // retried as the group committer does, with the conflict gone: both land
    await store.commit(batch({ frames: [frame('c', 2)], turnSnapshots: [snap('t1', 'final', [user('u1', 'x')])] }));
    expect((await store.loadTurns('c')).map((t) => t.turnId)).toEqual(['t1']);
  });
});

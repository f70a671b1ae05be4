import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Block } from '../../inference/turn';
import { SqliteStore } from './sqlite-store';
import type { TurnSnapshot } from './store';
import { batch, conversation, countRows, frame, tempDir, upsert, SQLITE_MODES } from './store-fixtures';

// Every test runs against the engine on its worker thread and in-process.
describe.each(SQLITE_MODES)('%s', (_mode, thread) => {

/** Turn snapshots inside a group-commit batch (`CommitBatch.turnSnapshots`): one transaction with the frames. */

const tmp = tempDir();
afterAll(() => tmp.cleanup());
let n = 0;
let path: string;
let store: SqliteStore;
beforeEach(async () => {
  n += 1;
  path = tmp.file(`batch-snapshots-${n}.db`);
  store = new SqliteStore({ thread, path });
  await store.migrate();
});
afterEach(async () => {
  await store.close();
});

const user = (id: string, text: string): Block => ({ kind: 'user', id, text });
const answer = (id: string, text: string): Block => ({ kind: 'llm_text', id, text });
const snap = (turnId: string, phase: TurnSnapshot['phase'], blocks: Block[], status: string | null = null): TurnSnapshot => ({
  convId: 'c', turnId, phase, inferenceId: `inf-${turnId}`, status, createdAtMs: 5, blocks, metadata: { sessionId: 'c', status },
});

describe('CommitBatch.turnSnapshots', () => {
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
    expect(countRows(path, 'blocks')).toBe(3);
  });

  it('roll back with the rest of the batch: a failed commit stores no snapshot and no frame', async () => {
    await store.commit(batch({ conversations: [upsert(conversation('c'))], frames: [frame('c', 1)] }));
    // seq 1 again: the frame insert fails, so the whole transaction rolls back
    await expect(store.commit(batch({ frames: [frame('c', 1)], turnSnapshots: [snap('t1', 'final', [user('u1', 'x')])] }))).rejects.toThrow();
    expect(await store.loadTurns('c')).toEqual([]);
    expect(countRows(path, 'blocks')).toBe(0);
    // retried as the group committer does, with the conflict gone: both land
    await store.commit(batch({ frames: [frame('c', 2)], turnSnapshots: [snap('t1', 'final', [user('u1', 'x')])] }));
    expect((await store.loadTurns('c')).map((t) => t.turnId)).toEqual(['t1']);
  });
});
});

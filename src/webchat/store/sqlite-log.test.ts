import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from './sqlite-store';
import { batch, countRows, frame, tempDir, SQLITE_MODES } from './store-fixtures';

// Every test runs against the engine on its worker thread and in-process.
describe.each(SQLITE_MODES)('%s', (_mode, thread) => {

/** The chunked log's layout and its lazy index (sqlite-log.ts), on real files. */

const tmp = tempDir();
afterAll(() => tmp.cleanup());
let n = 0;

async function open(path: string, log: { indexFlushChunks?: number; indexMaxLag?: number } = {}): Promise<SqliteStore> {
  const s = new SqliteStore({ thread, path, log });
  await s.migrate();
  return s;
}
const seqs = (fs: { seq: number }[]) => fs.map((f) => f.seq);

describe('SqliteStore chunked log', () => {
  it('one row per conversation per commit, whatever the number of frames', async () => {
    const path = tmp.file(`rows-${++n}.db`);
    const s = await open(path);
    const frames = ['a', 'b', 'c'].flatMap((c) => Array.from({ length: 10 }, (_, i) => frame(c, i + 1)));
    await s.commit(batch({ frames: frames.sort((x, y) => x.seq - y.seq) })); // interleaved
    expect(countRows(path, 'log_chunks')).toBe(3);
    for (const c of ['a', 'b', 'c']) expect(await s.readFrames(c, 3, 4)).toEqual([4, 5, 6, 7].map((q) => frame(c, q)));
    await s.close();
  });

  it('writes index rows in batches; a restart rebuilds the un-indexed tail from the chunks', async () => {
    const path = tmp.file(`lazy-${++n}.db`);
    let s = await open(path, { indexFlushChunks: 8 });
    for (let q = 1; q <= 7; q++) await s.commit(batch({ frames: [frame('a', q)] }));
    expect(countRows(path, 'log_chunks')).toBe(7);
    expect(countRows(path, 'log_index')).toBe(0); // nothing written per commit but the chunk
    await s.close();
    s = await open(path, { indexFlushChunks: 8 });
    expect(seqs(await s.readFrames('a', 2, 100))).toEqual([3, 4, 5, 6, 7]);
    expect(await s.logHead('a')).toEqual({ lastSeq: 7, epoch: 'ep1' });
    await s.commit(batch({ frames: [frame('a', 8)] }));
    expect(countRows(path, 'log_index')).toBe(8); // the 8th chunk flushed all eight
    await s.commit(batch({ frames: [frame('a', 9)] }));
    await s.close();
    s = await open(path, { indexFlushChunks: 8 });
    expect(await s.readFrames('a', 0, 100)).toEqual(Array.from({ length: 9 }, (_, i) => frame('a', i + 1)));
    await s.close();
  });

  it('a quiet conversation is indexed once it lags the newest chunk by indexMaxLag', async () => {
    const path = tmp.file(`lag-${++n}.db`);
    const s = await open(path, { indexFlushChunks: 1000, indexMaxLag: 5 });
    await s.commit(batch({ frames: [frame('quiet', 1)] }));
    for (let q = 1; q <= 4; q++) await s.commit(batch({ frames: [frame('busy', q)] }));
    expect(countRows(path, 'log_index')).toBe(0);
    await s.commit(batch({ frames: [frame('busy', 5)] })); // chunk 6: quiet's chunk 1 is 5 behind
    expect(countRows(path, 'log_index', undefined)).toBe(1);
    await s.close();
    const again = await open(path, { indexFlushChunks: 1000, indexMaxLag: 5 });
    expect(seqs(await again.readFrames('quiet', 0, 10))).toEqual([1]);
    expect(seqs(await again.readFrames('busy', 0, 10))).toEqual([1, 2, 3, 4, 5]);
    await again.close();
  });

  it('never reuses a chunk id after a delete removed the newest chunks (the tail scan would miss it)', async () => {
    const path = tmp.file(`floor-${++n}.db`);
    let s = await open(path, { indexFlushChunks: 2 });
    await s.commit(batch({ frames: [frame('gone', 1)] }));
    await s.commit(batch({ frames: [frame('gone', 2)] })); // flush: every chunk indexed, high-water 2
    await s.deleteConversation('gone', 1);
    await s.close();
    s = await open(path, { indexFlushChunks: 2 });
    await s.commit(batch({ frames: [frame('new', 1)] })); // un-indexed; must get id 3, not 1
    await s.close();
    s = await open(path, { indexFlushChunks: 2 });
    expect(await s.readFrames('new', 0, 10)).toEqual([frame('new', 1)]);
    expect(await s.readFrames('gone', 0, 10)).toEqual([]);
    await s.close();
  });

  it('a seq at or below the committed head rolls back the batch and changes nothing in memory', async () => {
    const path = tmp.file(`conflict-${++n}.db`);
    const s = await open(path);
    await s.commit(batch({ frames: [frame('a', 1), frame('a', 2)] }));
    await expect(s.commit(batch({ frames: [frame('b', 1), frame('a', 3), frame('a', 2)] }))).rejects.toMatchObject({ code: 'seq_conflict', part: 'frames' });
    expect(await s.readFrames('b', 0, 10)).toEqual([]);
    expect(await s.logHead('a')).toEqual({ lastSeq: 2, epoch: 'ep1' });
    await s.commit(batch({ frames: [frame('a', 3), frame('b', 1)] }));
    expect(seqs(await s.readFrames('a', 0, 10))).toEqual([1, 2, 3]);
    await s.close();
  });
});
});

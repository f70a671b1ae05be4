import { afterAll, describe, expect, it } from 'vitest';
import BetterSqlite3 from 'better-sqlite3';
import { SqliteStore } from './sqlite-store';
import { batch, conversation, frame, run, tempDir, upsert } from './store-fixtures';

/** What only the SQLite engine has (the shared contract suite: store.test.ts). */

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('SqliteStore file database', () => {
  it('runs in WAL mode and keeps committed data across close + reopen', async () => {
    const path = tmp.file('nested/dir/webchat.db'); // parent directories are created
    const s1 = new SqliteStore({ path });
    await s1.migrate();
    await s1.commit(batch({ conversations: [upsert(conversation('w'))], frames: [frame('w', 1), frame('w', 2)], runs: [run('w', 'iw')] }));
    const probe = new BetterSqlite3(path, { readonly: true });
    expect(probe.pragma('journal_mode', { simple: true })).toBe('wal');
    probe.close();
    await s1.close();

    const s2 = new SqliteStore({ path });
    await s2.migrate();
    expect(await s2.getConversation('w')).toEqual(conversation('w'));
    expect(await s2.logHead('w')).toEqual({ lastSeq: 2, epoch: 'ep1' });
    expect(await s2.listOpenRuns()).toEqual([run('w', 'iw')]);
    await s2.close();
  });

  it(':memory: works as a database', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    await store.migrate();
    await store.commit(batch({ conversations: [upsert(conversation('m'))], frames: [frame('m', 1), frame('m', 2)] }));
    expect(await store.readFrames('m', 1, 10)).toEqual([frame('m', 2)]);
    expect(await store.getConversation('m')).toEqual(conversation('m'));
    await store.close();
  });

  it('ignores CommitBatch.fences (one process, no leases): any token commits', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    await store.migrate();
    await store.commit(batch({ conversations: [upsert(conversation('f'))], fences: [{ convId: 'f', token: 9 }], frames: [frame('f', 1)] }));
    await store.commit(batch({ fences: [{ convId: 'f', token: 1 }, { convId: 'no-row', token: 1 }], frames: [frame('f', 2)] }));
    expect((await store.logHead('f')).lastSeq).toBe(2);
    await store.close();
  });

  it('throws a clear error when used before migrate()', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    await expect(store.readFrames('x', 0, 1)).rejects.toThrow(/migrate\(\)/);
    await store.close();
  });
});

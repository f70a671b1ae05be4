import { afterAll, describe, expect, it } from 'vitest';
import BetterSqlite3 from 'better-sqlite3';
import { APPLICATION_ID, NotAWebchatDatabaseError, SCHEMA_VERSION } from './sqlite-migrations';
import { SqliteStore } from './sqlite-store';
import { writeV1Database, v1Envelope, V1_BLOCKS } from './sqlite-schema-v1.fixture';
import { SchemaTooNewError, type StoredFrame } from './store';
import { batch, conversation, frame, tempDir, upsert, SQLITE_MODES } from './store-fixtures';

// Every test runs against the engine on its worker thread and in-process.
describe.each(SQLITE_MODES)('%s', (_mode, thread) => {

const tmp = tempDir();
afterAll(() => tmp.cleanup());

function pragmas(path: string): { version: number; appId: number } {
  const db = new BetterSqlite3(path, { readonly: true });
  try {
    return { version: db.pragma('user_version', { simple: true }) as number, appId: db.pragma('application_id', { simple: true }) as number };
  } finally {
    db.close();
  }
}

describe('SQLite store migrations', () => {
  it('creates the schema, records its version, and is idempotent', async () => {
    const path = tmp.file('fresh.db');
    const store = new SqliteStore({ thread, path });
    await store.migrate();
    await store.migrate();
    expect(pragmas(path)).toEqual({ version: SCHEMA_VERSION, appId: APPLICATION_ID });
    await store.close();
  });

  it('reopening an existing file works and keeps its data', async () => {
    const path = tmp.file('reopen.db');
    const s1 = new SqliteStore({ thread, path });
    await s1.migrate();
    await s1.commit(batch({ conversations: [upsert(conversation('r'))], frames: [frame('r', 1)] }));
    await s1.close();

    const s2 = new SqliteStore({ thread, path });
    await s2.migrate();
    expect(await s2.getConversation('r')).toEqual(conversation('r'));
    expect(await s2.readFrames('r', 0, 10)).toEqual([frame('r', 1)]);
    await s2.commit(batch({ frames: [frame('r', 2)] }));
    expect((await s2.logHead('r')).lastSeq).toBe(2);
    await s2.close();
    expect(pragmas(path).version).toBe(SCHEMA_VERSION);
  });

  it('refuses a database whose schema version is newer than this code', async () => {
    const path = tmp.file('too-new.db');
    const s1 = new SqliteStore({ thread, path });
    await s1.migrate();
    await s1.close();
    const raw = new BetterSqlite3(path);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();

    const s2 = new SqliteStore({ thread, path });
    const err = await s2.migrate().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SchemaTooNewError);
    expect((err as SchemaTooNewError).code).toBe('schema_too_new');
    expect((err as Error).message).toContain(`database schema version ${SCHEMA_VERSION + 1} is newer than this program supports (${SCHEMA_VERSION})`);
    await expect(s2.readFrames('r', 0, 1)).rejects.toThrow(/migrate\(\)/);
    await s2.close();
    expect(pragmas(path).version).toBe(SCHEMA_VERSION + 1); // untouched
  });

  it('refuses somebody else\'s SQLite file instead of adding tables to it', async () => {
    const other = tmp.file('other.db');
    const raw = new BetterSqlite3(other);
    raw.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)');
    raw.close();
    const s1 = new SqliteStore({ thread, path: other });
    await expect(s1.migrate()).rejects.toThrow(NotAWebchatDatabaseError);
    await s1.close();

    const foreignId = tmp.file('foreign-app.db');
    const raw2 = new BetterSqlite3(foreignId);
    raw2.pragma('application_id = 7');
    raw2.close();
    const s2 = new SqliteStore({ thread, path: foreignId });
    await expect(s2.migrate()).rejects.toThrow(/application_id 7/);
    await s2.close();
  });

  it('two stores on one file both migrate (the second finds the schema current)', async () => {
    const path = tmp.file('shared.db');
    const a = new SqliteStore({ thread, path });
    const b = new SqliteStore({ thread, path });
    await a.migrate();
    await b.migrate();
    await a.commit(batch({ frames: [frame('s', 1)] }));
    expect(await b.readFrames('s', 0, 10)).toEqual([frame('s', 1)]);
    await a.close();
    await b.close();
  });
});

describe('schema v1 (one row per frame) → v2 (chunked log), in place', () => {
  it('keeps frames, turns, queue, pauses, runs, idempotency, projection and tombstones, and resumes exactly across the upgrade', async () => {
    const path = tmp.file('v1.db');
    const FRAMES = 1_234; // several chunks of CHUNK_MAX_FRAMES
    writeV1Database(path, FRAMES);
    expect(pragmas(path).version).toBe(1);

    const store = new SqliteStore({ thread, path });
    await store.migrate();
    expect(pragmas(path)).toEqual({ version: SCHEMA_VERSION, appId: APPLICATION_ID });
    const tables = (() => {
      const db = new BetterSqlite3(path, { readonly: true });
      try {
        return db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).pluck().all() as string[];
      } finally {
        db.close();
      }
    })();
    expect(tables).not.toContain('frames');
    expect(tables).toEqual(expect.arrayContaining(['log_chunks', 'log_index', 'log_streams', 'log_meta']));

    // every v1 frame, byte-identical, from any `since`
    const want = (convId: string, epoch: string, base: number, from: number, to: number): StoredFrame[] =>
      Array.from({ length: to - from + 1 }, (_, i) => {
        const seq = from + i;
        const e = v1Envelope(convId, seq);
        return { convId, seq, epoch, type: e.type, entityId: e.id, json: e.json, createdAtMs: base + seq };
      });
    expect(await store.readFrames('old-a', 0, 10_000)).toEqual(want('old-a', 'epoch-a', 2_000, 1, FRAMES));
    expect(await store.readFrames('old-a', 700, 50)).toEqual(want('old-a', 'epoch-a', 2_000, 701, 750));
    expect(await store.readFrames('old-b', 1, 10)).toEqual(want('old-b', 'epoch-b', 3_000, 2, 3));
    expect(await store.logHead('old-a')).toEqual({ lastSeq: FRAMES, epoch: 'epoch-a' });
    expect(await store.logHead('old-b')).toEqual({ lastSeq: 3, epoch: 'epoch-b' }); // no row: the newest frame's epoch

    // everything beside the log, as v1 wrote it
    expect(await store.getConversation('old-a')).toEqual({
      convId: 'old-a', title: 'Old A', createdAtMs: 1_000, lastActivityMs: 9_000, runtimeKey: 'demo', busyPolicy: 'queue', stepMode: true, principal: 'alice', epoch: 'epoch-a', lastSeq: FRAMES,
    });
    expect(await store.listOpenRuns()).toEqual([{ convId: 'old-a', inferenceId: 'inf-old-a', turnId: 'turn-old-a', status: 'open', reason: null, startedAtMs: 5_000, endedAtMs: null, endSeq: null }]);
    expect(await store.getRun('old-a', 'inf-done')).toMatchObject({ status: 'completed', endSeq: 10 });
    expect(await store.listOpenPauses('old-a')).toEqual([{ convId: 'old-a', pauseId: 'pause-1', inferenceId: 'inf-old-a', phase: 'approval', summary: 'approve calc', deadlineMs: 99_000, toolCallIds: ['call_1'], resolution: null }]);
    expect(await store.listQueue('old-a')).toEqual([{ convId: 'old-a', turnId: 'turn-q', orderKey: 7, prompt: 'queued prompt', idempotencyKey: 'idem-q', principal: 'alice', runtime: { slug: 'demo' }, acceptedAtMs: 6_000 }]);
    expect(await store.listConversationsWithQueue()).toEqual(['old-a']);
    expect(await store.getIdempotency('alice', 'idem-q')).toEqual({ principal: 'alice', key: 'idem-q', convId: 'old-a', turnId: 'turn-q', promptHash: 'hash-q', createdAtMs: 6_000, endedAtMs: null });
    expect(await store.loadProjection('old-a')).toEqual({
      cursor: 10,
      entities: [{ id: 'msg-old-a-1', kind: 'message', firstSeq: 2, version: 10, createdAtMs: 2_002, updatedAtMs: 2_010, props: { role: 'assistant', content: 'wörd 2 ', streaming: false } }],
    });
    const turns = await store.loadTurns('old-a');
    expect(turns).toHaveLength(1);
    expect(turns[0]).toMatchObject({ turnId: 'turn-done', phase: 'final', status: 'completed', blocks: V1_BLOCKS, metadata: { sessionId: 'old-a' } });
    expect(await store.isTombstoned('deleted-conv')).toBe(true);

    // the log continues: the next seq commits, a stale one is refused, resume crosses the upgrade
    const next = frame('old-a', FRAMES + 1, { epoch: 'epoch-a' });
    await store.commit(batch({ frames: [next] }));
    await expect(store.commit(batch({ frames: [frame('old-a', FRAMES, { epoch: 'epoch-a' })] }))).rejects.toMatchObject({ code: 'seq_conflict' });
    await store.close();
    const reopened = new SqliteStore({ thread, path });
    await reopened.migrate();
    expect(await reopened.readFrames('old-a', FRAMES - 2, 10)).toEqual([...want('old-a', 'epoch-a', 2_000, FRAMES - 1, FRAMES), next]);
    await reopened.close();
  });
});
});

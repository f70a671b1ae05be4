import { afterAll, describe, expect, it } from 'vitest';
import BetterSqlite3 from 'better-sqlite3';
import { APPLICATION_ID, NotAWebchatDatabaseError, SCHEMA_VERSION } from './sqlite-migrations';
import { SqliteStore } from './sqlite-store';
import { SchemaTooNewError } from './store';
import { batch, conversation, frame, tempDir, upsert } from './store-fixtures';

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
    const store = new SqliteStore({ path });
    await store.migrate();
    await store.migrate();
    expect(pragmas(path)).toEqual({ version: SCHEMA_VERSION, appId: APPLICATION_ID });
    await store.close();
  });

  it('reopening an existing file works and keeps its data', async () => {
    const path = tmp.file('reopen.db');
    const s1 = new SqliteStore({ path });
    await s1.migrate();
    await s1.commit(batch({ conversations: [upsert(conversation('r'))], frames: [frame('r', 1)] }));
    await s1.close();

    const s2 = new SqliteStore({ path });
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
    const s1 = new SqliteStore({ path });
    await s1.migrate();
    await s1.close();
    const raw = new BetterSqlite3(path);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();

    const s2 = new SqliteStore({ path });
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
    const s1 = new SqliteStore({ path: other });
    await expect(s1.migrate()).rejects.toThrow(NotAWebchatDatabaseError);
    await s1.close();

    const foreignId = tmp.file('foreign-app.db');
    const raw2 = new BetterSqlite3(foreignId);
    raw2.pragma('application_id = 7');
    raw2.close();
    const s2 = new SqliteStore({ path: foreignId });
    await expect(s2.migrate()).rejects.toThrow(/application_id 7/);
    await s2.close();
  });

  it('two stores on one file both migrate (the second finds the schema current)', async () => {
    const path = tmp.file('shared.db');
    const a = new SqliteStore({ path });
    const b = new SqliteStore({ path });
    await a.migrate();
    await b.migrate();
    await a.commit(batch({ frames: [frame('s', 1)] }));
    expect(await b.readFrames('s', 0, 10)).toEqual([frame('s', 1)]);
    await a.close();
    await b.close();
  });
});

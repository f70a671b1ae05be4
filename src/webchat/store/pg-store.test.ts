import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { PG_SCHEMA_VERSION, readPgSchemaVersion } from './pg-migrations';
import { parseDatabaseUrl, PgStore } from './pg-store';
import { SchemaTooNewError } from './store';
import { StoreCommitError } from './store-errors';
import { batch, conversation, frame, run, upsert } from './store-fixtures';
import { createTestSchema, dropTestSchema, TEST_PG_URL, testDatabaseUrl } from './store-test-engines';

/** What only the PostgreSQL engine has: schemas, migrations, fencing, concurrent writers (the shared contract: store.test.ts). */

let schema: string;
const stores: PgStore[] = [];
const admin = new pg.Pool({ connectionString: TEST_PG_URL, max: 1, allowExitOnIdle: true });

async function open(url = testDatabaseUrl(schema)): Promise<PgStore> {
  const s = new PgStore({ connectionString: url, poolSize: 2 });
  stores.push(s);
  await s.migrate();
  return s;
}

beforeEach(async () => {
  schema = await createTestSchema();
});
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
  await dropTestSchema(schema);
});

describe('PgStore schema and migrations', () => {
  it('creates every table in the schema named by the URL, records the version, and migrates idempotently', async () => {
    const s = await open();
    expect(s.schema).toBe(schema);
    const tables = await admin.query<{ t: string }>(`SELECT tablename AS t FROM pg_tables WHERE schemaname = $1 ORDER BY 1`, [schema]);
    expect(tables.rows.map((r) => r.t)).toContain('frames');
    expect(tables.rows.map((r) => r.t)).toContain('webchat_schema');
    const inPublic = await admin.query(`SELECT 1 FROM pg_tables WHERE schemaname = 'public' AND tablename = 'webchat_schema'`);
    expect(inPublic.rowCount).toBe(0);
    expect(await readPgSchemaVersion(admin, schema)).toBe(PG_SCHEMA_VERSION);
    await s.migrate();
    await (await open()).migrate(); // a second process: nothing to do
    expect((await admin.query(`SELECT count(*)::int AS n FROM ${schema}.webchat_schema`)).rows[0].n).toBe(PG_SCHEMA_VERSION);
  });

  it('two stores migrating a fresh schema at once serialize (one creates, the other sees it)', async () => {
    const a = new PgStore({ connectionString: testDatabaseUrl(schema), poolSize: 2 });
    const b = new PgStore({ connectionString: testDatabaseUrl(schema), poolSize: 2 });
    stores.push(a, b);
    await Promise.all([a.migrate(), b.migrate()]);
    await a.commit(batch({ frames: [frame('c', 1)] }));
    expect(await b.readFrames('c', 0, 10)).toEqual([frame('c', 1)]);
  });

  it('refuses a schema written by a newer program (SchemaTooNewError) and a schema with foreign tables', async () => {
    await open();
    await admin.query(`INSERT INTO ${schema}.webchat_schema (version) VALUES ($1)`, [PG_SCHEMA_VERSION + 1]);
    const err = await open().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SchemaTooNewError);
    expect((err as SchemaTooNewError).code).toBe('schema_too_new');

    const other = await createTestSchema();
    try {
      await admin.query(`CREATE TABLE ${other}.somebody_elses (id int)`);
      await expect(open(testDatabaseUrl(other))).rejects.toMatchObject({ code: 'not_a_webchat_database' });
    } finally {
      await dropTestSchema(other);
    }
  });

  it('parses the schema from the URL (default public) and rejects unsafe names', () => {
    expect(parseDatabaseUrl('postgres://u@h:5432/d?schema=tenant_1&sslmode=disable')).toEqual({
      connectionString: 'postgres://u@h:5432/d?sslmode=disable',
      schema: 'tenant_1',
    });
    expect(parseDatabaseUrl('postgresql://u@h/d').schema).toBe('public');
    expect(() => new PgStore({ connectionString: 'postgres://u@h/d?schema=a;drop' })).toThrow(/invalid PostgreSQL schema name/);
  });

  it('ping is false when the server is unreachable, and a closed store refuses use', async () => {
    const dead = new PgStore({ connectionString: 'postgres://postgres@127.0.0.1:1/test', connectionTimeoutMs: 500 });
    expect(await dead.ping()).toBe(false);
    await dead.close();
    const s = await open();
    expect(await s.ping()).toBe(true);
    await s.close();
    expect(await s.ping()).toBe(false);
    await expect(s.readFrames('c', 0, 1)).rejects.toThrow(/closed/);
  });
});

describe('PgStore commits', () => {
  it('frames are stored one row each, byte-identical, whatever the order in the batch', async () => {
    const s = await open();
    const weird = frame('c', 2, { json: '{"sem":true,"text":"é \\u0001 \\"q\\" \\\\ \u{1F600} , {}"}', entityId: 'a,b"c' });
    await s.commit(batch({ frames: [weird, frame('c', 1), frame('d', 1)] }));
    expect(await s.readFrames('c', 0, 10)).toEqual([frame('c', 1), weird]);
    const rows = await admin.query(`SELECT count(*)::int AS n FROM ${schema}.frames`);
    expect(rows.rows[0].n).toBe(3);
  });

  it('a run opened and closed in the same batch ends closed (repeated keys are applied in order)', async () => {
    const s = await open();
    const closed = run('c', 'i1', { status: 'completed', endedAtMs: 9, endSeq: 3 });
    await s.commit(batch({ conversations: [upsert(conversation('c')), upsert(conversation('c'), { title: 'second' })], runs: [run('c', 'i1'), closed] }));
    expect(await s.getRun('c', 'i1')).toEqual(closed);
    expect((await s.getConversation('c'))?.title).toBe('second'); // created, then updated
  });

  it('two stores writing the same seq concurrently: exactly one commits, the other gets seq_conflict', async () => {
    const a = await open();
    const b = await open();
    await a.commit(batch({ frames: [frame('c', 1)] }));
    const results = await Promise.allSettled([
      a.commit(batch({ frames: [frame('c', 2, { json: '"from a"' })] })),
      b.commit(batch({ frames: [frame('c', 2, { json: '"from b"' })] })),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(failed.reason).toBeInstanceOf(StoreCommitError);
    expect((failed.reason as StoreCommitError).code).toBe('seq_conflict');
    expect((await a.readFrames('c', 0, 10)).map((f) => f.seq)).toEqual([1, 2]);
  });

  it('fencing: a token below the stored fence fails the whole commit with code fenced; equal or higher commits', async () => {
    const s = await open();
    await s.commit(batch({ conversations: [upsert(conversation('c'))], fences: [{ convId: 'c', token: 5 }], frames: [frame('c', 1)] }));
    await s.commit(batch({ fences: [{ convId: 'c', token: 5 }], frames: [frame('c', 2)] }));
    const err = await s.commit(batch({ fences: [{ convId: 'c', token: 4 }], frames: [frame('c', 3)], runs: [run('c', 'late')] })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreCommitError);
    expect((err as StoreCommitError).code).toBe('fenced');
    expect((err as StoreCommitError).part).toBe('fences');
    expect(await s.getRun('c', 'late')).toBeNull();
    expect((await s.logHead('c')).lastSeq).toBe(2);
    // a fence for a conversation without a row is refused too (its owner creates the row first)
    await expect(s.commit(batch({ fences: [{ convId: 'nobody', token: 1 }] }))).rejects.toMatchObject({ code: 'fenced' });
    await s.commit(batch({ fences: [{ convId: 'c', token: 6 }], frames: [frame('c', 3)] }));
    expect((await admin.query(`SELECT fence FROM ${schema}.conversations WHERE conv_id = 'c'`)).rows[0].fence).toBe('6');
  });

  it('a broken connection mid-commit rolls back; the next commit succeeds on a fresh connection', async () => {
    const app = `mw-test-${schema}`;
    const s = new PgStore({ connectionString: testDatabaseUrl(schema), poolSize: 2, applicationName: app });
    stores.push(s);
    await s.migrate();
    await s.commit(batch({ frames: [frame('c', 1)] }));
    const killed = await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, [app]);
    expect(killed.rowCount).toBeGreaterThan(0);
    // the pool may hand out a killed idle connection once: the commit fails, nothing is applied
    let ok = false;
    for (let attempt = 0; attempt < 3 && !ok; attempt++) {
      ok = await s.commit(batch({ frames: [frame('c', 2)] })).then(() => true, () => false);
    }
    expect(ok).toBe(true);
    expect((await s.readFrames('c', 0, 10)).map((f) => f.seq)).toEqual([1, 2]);
  });

  it('a retried batch whose COMMIT went unanswered but was stored resolves, once; a different batch still conflicts', async () => {
    let lose = true;
    const s = new PgStore({
      connectionString: testDatabaseUrl(schema),
      poolSize: 2,
      beforeCommitForTest: async (c) => {
        if (!lose) return;
        lose = false;
        await c.query('COMMIT'); // durable…
        throw new Error('connection lost'); // …but the answer never arrives
      },
    });
    stores.push(s);
    await s.migrate();
    const b = batch({ conversations: [upsert(conversation('c'))], frames: [frame('c', 1), frame('c', 2)], runs: [run('c', 'i1')] });
    await expect(s.commit(b)).rejects.toMatchObject({ code: 'commit_outcome_unknown' });
    await s.commit(b); // the group committer retries the same batch: found stored, success
    expect((await s.readFrames('c', 0, 10)).map((f) => f.seq)).toEqual([1, 2]);
    // only that batch, only once: an equal-looking new batch is a conflict as always
    await expect(s.commit(batch({ frames: [frame('c', 2)] }))).rejects.toMatchObject({ code: 'seq_conflict' });
    await expect(s.commit(b)).rejects.toMatchObject({ code: 'seq_conflict' });
  });
});

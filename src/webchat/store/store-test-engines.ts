import { randomBytes } from 'node:crypto';
import pg from 'pg';
import BetterSqlite3 from 'better-sqlite3';
import { PgStore } from './pg-store';
import type { SqliteLogOptions } from './sqlite-log';
import { SqliteStore } from './sqlite-store';
import type { Store } from './store';
import { countRows as countSqliteRows, tempDir } from './store-fixtures';

/**
 * TEST-ONLY: the store engines the shared store suite runs against (one suite, two engines,
 * real servers). Each `create()` gives a fresh, empty database: a new SQLite file in a temp
 * directory, or a new PostgreSQL schema `t_<random>` in database `test` on 127.0.0.1:5432
 * (override with WEBCHAT_TEST_PG_URL), dropped again by `drop()`.
 */

export const TEST_PG_URL = process.env.WEBCHAT_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  /** A new, migrated store on this database (several may be open at once: "another connection"). */
  open(opts?: { sqliteLog?: SqliteLogOptions }): Promise<Store>;
  /** `count(*)` of a table (optionally only rows of one conversation), through a separate connection. */
  countRows(table: string, convId?: string): Promise<number>;
  /** The first column of the first row of `sql` (unqualified table names), through a separate connection. */
  scalar(sql: string): Promise<unknown>;
  /** Every table of the schema that has a `conv_id` column. */
  tablesWithConvId(): Promise<string[]>;
  /** Tables holding a conversation's log rows, keyed by conv_id. */
  logTables: string[];
  /** Removes the database (file or schema). */
  drop(): Promise<void>;
}

export interface StoreEngine {
  /** `sqlite`: the engine on its worker thread (the default); `sqlite-inline`: in-process (`--db-inline`). */
  name: 'sqlite' | 'sqlite-inline' | 'postgres';
  create(): Promise<TestDatabase>;
}

const files = tempDir();
process.once('exit', () => files.cleanup());
let fileNo = 0;

const sqliteEngine = (thread: boolean): StoreEngine => ({
  name: thread ? 'sqlite' : 'sqlite-inline',
  async create() {
    const path = files.file(`engine-${process.pid}-${++fileNo}.db`);
    return {
      open: async (opts = {}) => {
        const s = new SqliteStore({ path, thread, log: opts.sqliteLog });
        await s.migrate();
        return s;
      },
      countRows: async (table, convId) => countSqliteRows(path, table, convId),
      scalar: async (sql) => {
        const db = new BetterSqlite3(path, { readonly: true });
        try {
          return db.prepare(sql).pluck().get();
        } finally {
          db.close();
        }
      },
      tablesWithConvId: async () => {
        const db = new BetterSqlite3(path, { readonly: true });
        try {
          const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).pluck().all() as string[];
          return tables.filter((t) => (db.pragma(`table_info(${t})`) as { name: string }[]).some((c) => c.name === 'conv_id'));
        } finally {
          db.close();
        }
      },
      logTables: ['log_streams'],
      drop: async () => undefined, // the temp directory goes at exit
    };
  },
});

let admin: pg.Pool | null = null;
function adminPool(): pg.Pool {
  admin ??= new pg.Pool({ connectionString: TEST_PG_URL, max: 2, idleTimeoutMillis: 500, allowExitOnIdle: true });
  return admin;
}

/** Creates an empty schema `t_<random>` for one test; returns its name. */
export async function createTestSchema(): Promise<string> {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  await adminPool().query(`CREATE SCHEMA ${schema}`);
  return schema;
}

/** Whether `schema` holds a migrated moments-webchat store (a server really used it). */
export async function isWebchatSchema(schema: string): Promise<boolean> {
  const r = await adminPool().query<{ ok: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS ok`, [`${schema}.webchat_schema`]);
  return r.rows[0]!.ok;
}

export async function dropTestSchema(schema: string): Promise<void> {
  await adminPool().query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
}

/** A database URL whose `schema` parameter selects `schema` (what `--database-url` takes). */
export const testDatabaseUrl = (schema: string): string => `${TEST_PG_URL}${TEST_PG_URL.includes('?') ? '&' : '?'}schema=${schema}`;

const postgres: StoreEngine = {
  name: 'postgres',
  async create() {
    const schema = await createTestSchema();
    const opened: PgStore[] = [];
    return {
      open: async () => {
        const s = new PgStore({ connectionString: TEST_PG_URL, schema, poolSize: 2 });
        opened.push(s);
        await s.migrate();
        return s;
      },
      countRows: async (table, convId) => {
        const sql = `SELECT count(*)::int AS n FROM ${schema}.${table}${convId === undefined ? '' : ' WHERE conv_id = $1'}`;
        const r = await adminPool().query<{ n: number }>(sql, convId === undefined ? [] : [convId]);
        return r.rows[0]!.n;
      },
      scalar: async (sql) => {
        const client = await adminPool().connect();
        try {
          await client.query('BEGIN');
          await client.query(`SET LOCAL search_path TO ${schema}`);
          const r = await client.query({ text: sql, rowMode: 'array' });
          await client.query('COMMIT');
          const v = (r.rows[0] as unknown[] | undefined)?.[0];
          return typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v; // bigint arrives as text
        } finally {
          client.release();
        }
      },
      tablesWithConvId: async () => {
        const r = await adminPool().query<{ t: string }>(
          `SELECT table_name AS t FROM information_schema.columns WHERE table_schema = $1 AND column_name = 'conv_id'`,
          [schema],
        );
        return r.rows.map((x) => x.t);
      },
      logTables: ['frames'],
      drop: async () => {
        await Promise.all(opened.map((s) => s.close()));
        await dropTestSchema(schema);
      },
    };
  },
};

export const STORE_ENGINES: readonly StoreEngine[] = [sqliteEngine(true), sqliteEngine(false), postgres];

/** The engines as `describe.each` rows: `[name, engine]`. */
export const ENGINE_ROWS = STORE_ENGINES.map((e) => [e.name, e] as const);

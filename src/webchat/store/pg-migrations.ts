import type { Pool } from 'pg';
import { SchemaTooNewError } from './store';

/**
 * Schema versions of the PostgreSQL store. Every object lives in one PostgreSQL schema (the
 * store's `schema` option; the pool's `search_path` points at it), so several deployments —
 * or every test — can share one database. The version lives in our own table
 * `webchat_schema (version)`; each migration runs in one transaction together with the
 * version bump, under a transaction-scoped advisory lock keyed by the schema name, so a crash
 * mid-migration leaves the previous version intact and two processes migrating at once
 * serialize (the second sees the new version and does nothing).
 *
 * Append new versions at the end; never edit a released one.
 *
 * Layout notes (see pg-store.ts for the why):
 * - ids are `text COLLATE "C"`: byte order, like SQLite's, so keyset paging and ORDER BY agree
 *   with JavaScript string comparison, and comparisons are cheaper than a locale's.
 * - `frames` is a plain table with PRIMARY KEY (conv_id, seq). PostgreSQL's heap is not
 *   clustered by the key: rows append to the heap in commit order (as SQLite's log chunks
 *   do), and only the narrow primary-key index is ordered by (conv_id, seq).
 * - `conversations.fence` is the scale-out fencing token (the highest token that committed for
 *   the conversation); a commit that carries `CommitBatch.fences` checks and raises it.
 * - `ord` identity columns stand in for SQLite's rowid (creation order).
 */

interface Migration {
  version: number;
  description: string;
  sql: string;
}

const V1 = `
CREATE TABLE conversations (
  conv_id          text COLLATE "C" PRIMARY KEY,
  title            text NOT NULL,
  created_at_ms    bigint NOT NULL,
  last_activity_ms bigint NOT NULL,
  runtime_key      text NOT NULL,
  busy_policy      text NOT NULL,
  step_mode        boolean NOT NULL,
  principal        text COLLATE "C",
  epoch            text NOT NULL,
  last_seq         bigint NOT NULL,
  fence            bigint NOT NULL DEFAULT 0
);
CREATE INDEX conversations_activity ON conversations (last_activity_ms, conv_id);
CREATE INDEX conversations_principal_activity ON conversations (principal, last_activity_ms, conv_id);

CREATE TABLE tombstones (
  conv_id       text COLLATE "C" PRIMARY KEY,
  deleted_at_ms bigint NOT NULL
);

CREATE TABLE frames (
  conv_id       text COLLATE "C" NOT NULL,
  seq           bigint NOT NULL,
  epoch         text NOT NULL,
  type          text NOT NULL,
  entity_id     text NOT NULL,
  json          text NOT NULL,
  created_at_ms bigint NOT NULL,
  PRIMARY KEY (conv_id, seq)
);

CREATE TABLE runs (
  inference_id  text COLLATE "C" PRIMARY KEY,
  ord           bigint GENERATED ALWAYS AS IDENTITY,
  conv_id       text COLLATE "C" NOT NULL,
  turn_id       text NOT NULL,
  status        text NOT NULL,
  reason        text,
  started_at_ms bigint NOT NULL,
  ended_at_ms   bigint,
  end_seq       bigint
);
CREATE INDEX runs_conv_started ON runs (conv_id, started_at_ms, ord);
CREATE INDEX runs_open ON runs (started_at_ms, ord) WHERE status = 'open';

CREATE TABLE pauses (
  pause_id      text COLLATE "C" PRIMARY KEY,
  ord           bigint GENERATED ALWAYS AS IDENTITY,
  conv_id       text COLLATE "C" NOT NULL,
  inference_id  text NOT NULL,
  phase         text NOT NULL,
  summary       text NOT NULL,
  deadline_ms   bigint NOT NULL,
  tool_call_ids text NOT NULL,
  resolution    text
);
CREATE INDEX pauses_conv ON pauses (conv_id, ord);

CREATE TABLE queue (
  conv_id         text COLLATE "C" NOT NULL,
  turn_id         text COLLATE "C" NOT NULL,
  ord             bigint GENERATED ALWAYS AS IDENTITY,
  order_key       bigint NOT NULL,
  prompt          text NOT NULL,
  idempotency_key text,
  principal       text,
  runtime         text NOT NULL,
  accepted_at_ms  bigint NOT NULL,
  PRIMARY KEY (conv_id, turn_id)
);
CREATE INDEX queue_order ON queue (conv_id, order_key, ord);

CREATE TABLE idempotency (
  principal     text COLLATE "C" NOT NULL,
  key           text COLLATE "C" NOT NULL,
  conv_id       text COLLATE "C" NOT NULL,
  turn_id       text NOT NULL,
  prompt_hash   text NOT NULL,
  created_at_ms bigint NOT NULL,
  ended_at_ms   bigint,
  PRIMARY KEY (principal, key)
);
CREATE INDEX idempotency_conv ON idempotency (conv_id);
CREATE INDEX idempotency_ended ON idempotency (ended_at_ms) WHERE ended_at_ms IS NOT NULL;

CREATE TABLE entities (
  conv_id       text COLLATE "C" NOT NULL,
  id            text COLLATE "C" NOT NULL,
  kind          text NOT NULL,
  first_seq     bigint NOT NULL,
  version       bigint NOT NULL,
  created_at_ms bigint NOT NULL,
  updated_at_ms bigint NOT NULL,
  props         text NOT NULL,
  PRIMARY KEY (conv_id, id)
);
CREATE TABLE projection_cursors (
  conv_id text COLLATE "C" PRIMARY KEY,
  cursor  bigint NOT NULL
);

CREATE TABLE blocks (
  hash bytea PRIMARY KEY,
  json text NOT NULL
);
CREATE TABLE conversation_blocks (
  conv_id text COLLATE "C" NOT NULL,
  hash    bytea NOT NULL,
  PRIMARY KEY (conv_id, hash)
);
CREATE INDEX conversation_blocks_hash ON conversation_blocks (hash);

CREATE TABLE turns (
  ord          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  conv_id      text COLLATE "C" NOT NULL,
  turn_id      text COLLATE "C" NOT NULL,
  latest_phase text NOT NULL,
  UNIQUE (conv_id, turn_id)
);
CREATE TABLE turn_snapshots (
  conv_id       text COLLATE "C" NOT NULL,
  turn_id       text COLLATE "C" NOT NULL,
  phase         text NOT NULL,
  inference_id  text,
  status        text,
  created_at_ms bigint NOT NULL,
  updated_at_ms bigint NOT NULL,
  metadata      text NOT NULL,
  block_count   integer NOT NULL,
  block_hashes  bytea NOT NULL,
  PRIMARY KEY (conv_id, turn_id, phase)
);
`;

const MIGRATIONS: readonly Migration[] = [{ version: 1, description: 'initial schema', sql: V1 }];

/** The newest schema version this code knows. */
export const PG_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

const TOO_NEW_HINT = 'use another schema (?schema= in --database-url)';

/** A PostgreSQL schema name we accept (it goes into `search_path` and DDL unquoted-safe). */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Thrown when the schema has tables but is not a moments-webchat schema. */
export class NotAWebchatSchemaError extends Error {
  readonly code = 'not_a_webchat_database';
}

/** The version recorded in `<schema>.webchat_schema`, 0 when the table does not exist. */
export async function readPgSchemaVersion(pool: Pool, schema: string): Promise<number> {
  const r = await pool.query<{ v: number | null }>(
    `SELECT CASE WHEN to_regclass($1) IS NULL THEN NULL ELSE 1 END AS v`,
    [`"${schema}".webchat_schema`],
  );
  if (r.rows[0]?.v == null) return 0;
  const v = await pool.query<{ version: number }>(`SELECT max(version) AS version FROM "${schema}".webchat_schema`);
  return v.rows[0]?.version ?? 0;
}

/**
 * Brings `schema` to PG_SCHEMA_VERSION, creating the schema when absent. Idempotent; throws
 * SchemaTooNewError for a schema written by a newer program and NotAWebchatSchemaError for a
 * schema holding somebody else's tables.
 */
export async function migratePgSchema(pool: Pool, schema: string): Promise<{ from: number; to: number }> {
  if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid PostgreSQL schema name ${JSON.stringify(schema)}`);
  const before = await readPgSchemaVersion(pool, schema);
  if (before > PG_SCHEMA_VERSION) throw new SchemaTooNewError(before, PG_SCHEMA_VERSION, TOO_NEW_HINT);
  if (before === PG_SCHEMA_VERSION) return { from: before, to: before };
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('moments-webchat:' || $1::text))`, [schema]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await client.query(`SET LOCAL search_path TO "${schema}"`);
    // Re-read under the lock: another process may have migrated meanwhile.
    const exists = (await client.query(`SELECT to_regclass('webchat_schema') IS NOT NULL AS e`)).rows[0] as { e: boolean };
    let from = 0;
    if (exists.e) {
      from = Number((await client.query(`SELECT coalesce(max(version), 0) AS v FROM webchat_schema`)).rows[0].v);
    } else {
      const tables = await client.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = $1`, [schema]);
      if ((tables.rows[0] as { n: number }).n > 0) {
        throw new NotAWebchatSchemaError(
          `PostgreSQL schema "${schema}" has tables but no moments-webchat schema version; refusing to use it (choose another schema)`,
        );
      }
      await client.query(`CREATE TABLE webchat_schema (version integer NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    }
    if (from > PG_SCHEMA_VERSION) throw new SchemaTooNewError(from, PG_SCHEMA_VERSION, TOO_NEW_HINT);
    for (const m of MIGRATIONS) {
      if (m.version > from) {
        await client.query(m.sql);
        await client.query(`INSERT INTO webchat_schema (version) VALUES ($1)`, [m.version]);
      }
    }
    await client.query('COMMIT');
    return { from, to: PG_SCHEMA_VERSION };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

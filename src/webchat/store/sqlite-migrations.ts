import type { Database } from 'better-sqlite3';
import { moveV1Frames, V2_SQL } from './sqlite-migration-v2';
import { SchemaTooNewError } from './store';

/**
 * Schema versions of the SQLite store. The version lives in `PRAGMA user_version`; the file is
 * marked as ours with `PRAGMA application_id`. Each migration runs in one IMMEDIATE transaction
 * together with the version bump, so a crash mid-migration leaves the previous version intact
 * and two processes migrating the same file serialize.
 *
 * Append new versions at the end; never edit a released one.
 */

/** 'MWCH' — marks a moments-webchat database file. */
export const APPLICATION_ID = 0x4d574348;

interface Migration {
  version: number;
  description: string;
  sql: string;
  /** Data moves that need code, run after `sql` in the same transaction. */
  run?: (db: Database) => void;
}

/** Schema 1 (frozen: a migration never changes; the v1 → v2 migration test builds a v1 file from it). */
export const V1_DDL = `
CREATE TABLE conversations (
  conv_id          TEXT PRIMARY KEY,
  title            TEXT NOT NULL,
  created_at_ms    INTEGER NOT NULL,
  last_activity_ms INTEGER NOT NULL,
  runtime_key      TEXT NOT NULL,
  busy_policy      TEXT NOT NULL,
  step_mode        INTEGER NOT NULL,
  principal        TEXT,
  epoch            TEXT NOT NULL,
  last_seq         INTEGER NOT NULL
);
CREATE INDEX conversations_activity ON conversations (last_activity_ms, conv_id);
CREATE INDEX conversations_principal_activity ON conversations (principal, last_activity_ms, conv_id);

CREATE TABLE tombstones (
  conv_id       TEXT PRIMARY KEY,
  deleted_at_ms INTEGER NOT NULL
);

-- The log. Clustered by (conv_id, seq): a replay is one range scan.
CREATE TABLE frames (
  conv_id       TEXT NOT NULL,
  seq           INTEGER NOT NULL,
  epoch         TEXT NOT NULL,
  type          TEXT NOT NULL,
  entity_id     TEXT NOT NULL,
  json          TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  PRIMARY KEY (conv_id, seq)
) WITHOUT ROWID;

CREATE TABLE runs (
  inference_id  TEXT PRIMARY KEY,
  conv_id       TEXT NOT NULL,
  turn_id       TEXT NOT NULL,
  status        TEXT NOT NULL,
  reason        TEXT,
  started_at_ms INTEGER NOT NULL,
  ended_at_ms   INTEGER,
  end_seq       INTEGER
);
CREATE INDEX runs_conv_started ON runs (conv_id, started_at_ms);
CREATE INDEX runs_open ON runs (started_at_ms) WHERE status = 'open';

CREATE TABLE pauses (
  pause_id      TEXT PRIMARY KEY,
  conv_id       TEXT NOT NULL,
  inference_id  TEXT NOT NULL,
  phase         TEXT NOT NULL,
  summary       TEXT NOT NULL,
  deadline_ms   INTEGER NOT NULL,
  tool_call_ids TEXT NOT NULL,
  resolution    TEXT
);
CREATE INDEX pauses_conv ON pauses (conv_id);

CREATE TABLE queue (
  conv_id         TEXT NOT NULL,
  turn_id         TEXT NOT NULL,
  order_key       INTEGER NOT NULL,
  prompt          TEXT NOT NULL,
  idempotency_key TEXT,
  principal       TEXT,
  runtime         TEXT NOT NULL,
  accepted_at_ms  INTEGER NOT NULL,
  PRIMARY KEY (conv_id, turn_id)
);
CREATE INDEX queue_order ON queue (conv_id, order_key);

CREATE TABLE idempotency (
  principal     TEXT NOT NULL,
  key           TEXT NOT NULL,
  conv_id       TEXT NOT NULL,
  turn_id       TEXT NOT NULL,
  prompt_hash   TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  ended_at_ms   INTEGER,
  PRIMARY KEY (principal, key)
);
CREATE INDEX idempotency_conv ON idempotency (conv_id);
CREATE INDEX idempotency_ended ON idempotency (ended_at_ms) WHERE ended_at_ms IS NOT NULL;

-- Timeline projection: current entities + the seq up to which they are exact.
CREATE TABLE entities (
  conv_id       TEXT NOT NULL,
  id            TEXT NOT NULL,
  kind          TEXT NOT NULL,
  first_seq     INTEGER NOT NULL,
  version       INTEGER NOT NULL,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  props         TEXT NOT NULL,
  PRIMARY KEY (conv_id, id)
);
CREATE TABLE projection_cursors (
  conv_id TEXT PRIMARY KEY,
  cursor  INTEGER NOT NULL
);

-- Turn blocks, stored once by content hash (sha256 of canonical JSON, 32 raw bytes).
CREATE TABLE blocks (
  hash BLOB PRIMARY KEY,
  json TEXT NOT NULL
);
-- Which conversations reference a block: lets delete remove blocks nobody else uses.
CREATE TABLE conversation_blocks (
  conv_id TEXT NOT NULL,
  hash    BLOB NOT NULL,
  PRIMARY KEY (conv_id, hash)
) WITHOUT ROWID;
CREATE INDEX conversation_blocks_hash ON conversation_blocks (hash);

-- One row per turn: creation order (ord) and which phase was written last.
CREATE TABLE turns (
  ord          INTEGER PRIMARY KEY,
  conv_id      TEXT NOT NULL,
  turn_id      TEXT NOT NULL,
  latest_phase TEXT NOT NULL,
  UNIQUE (conv_id, turn_id)
);
-- One row per (turn, phase); block_hashes = the 32-byte hashes of the turn's blocks, in order.
CREATE TABLE turn_snapshots (
  conv_id       TEXT NOT NULL,
  turn_id       TEXT NOT NULL,
  phase         TEXT NOT NULL,
  inference_id  TEXT,
  status        TEXT,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  metadata      TEXT NOT NULL,
  block_count   INTEGER NOT NULL,
  block_hashes  BLOB NOT NULL,
  PRIMARY KEY (conv_id, turn_id, phase)
);
`;

const MIGRATIONS: readonly Migration[] = [
  { version: 1, description: 'initial schema', sql: V1_DDL },
  { version: 2, description: 'frame log as an append: chunks in commit order + lazy per-conversation index', sql: V2_SQL, run: moveV1Frames },
];

/** The newest schema version this code knows. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** Thrown when the file is not a moments-webchat database. */
export class NotAWebchatDatabaseError extends Error {
  readonly code = 'not_a_webchat_database';
}

export function readSchemaVersion(db: Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Brings the schema to SCHEMA_VERSION. Idempotent; throws SchemaTooNewError for a database
 * written by a newer program and NotAWebchatDatabaseError for somebody else's SQLite file.
 */
export function migrateSchema(db: Database): { from: number; to: number } {
  const before = readSchemaVersion(db);
  if (before > SCHEMA_VERSION) throw new SchemaTooNewError(before, SCHEMA_VERSION);
  if (before === SCHEMA_VERSION) {
    checkApplicationId(db);
    return { from: before, to: before };
  }
  db.exec('BEGIN IMMEDIATE');
  try {
    // Re-read under the write lock: another process may have migrated meanwhile.
    const from = readSchemaVersion(db);
    if (from > SCHEMA_VERSION) throw new SchemaTooNewError(from, SCHEMA_VERSION);
    checkApplicationId(db);
    if (from === 0) {
      const tables = db.prepare(`SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'`).get() as { n: number };
      if (tables.n > 0) {
        throw new NotAWebchatDatabaseError('database has tables but no moments-webchat schema version; refusing to use it (use another --db)');
      }
      db.pragma(`application_id = ${APPLICATION_ID}`);
    }
    for (const m of MIGRATIONS) {
      if (m.version > from) {
        db.exec(m.sql);
        m.run?.(db);
      }
    }
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
    db.exec('COMMIT');
    return { from, to: SCHEMA_VERSION };
  } catch (err) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw err;
  }
}

function checkApplicationId(db: Database): void {
  const id = db.pragma('application_id', { simple: true }) as number;
  if (id !== 0 && id !== APPLICATION_ID) {
    throw new NotAWebchatDatabaseError(`database application_id ${id} is not moments-webchat's (${APPLICATION_ID}); use another --db`);
  }
}

import type { Database } from 'better-sqlite3';
import { encodeChunk } from './frame-chunk-codec';
import { CHUNK_MAX_BYTES, CHUNK_MAX_FRAMES } from './sqlite-log';

/**
 * Schema v2: the frame log becomes an append (sqlite-log.ts). v1 stored one row per frame in a
 * B-tree clustered by (conv_id, seq); every group commit dirtied the tail page of every
 * streaming conversation. v2 stores one row per conversation per commit in commit order, with
 * a lazily written per-conversation index.
 *
 * The move runs inside the migration's transaction: v1 frames are read in (conv_id, seq)
 * order, page by page, cut into chunks (contiguous seqs, one epoch, ≤ CHUNK_MAX_FRAMES frames /
 * CHUNK_MAX_BYTES), every chunk indexed at once, the high-water set to the last chunk, and the
 * v1 table dropped. A crash mid-migration leaves v1 untouched.
 */
export const V2_SQL = `
CREATE TABLE log_streams (
  stream_no INTEGER PRIMARY KEY,
  conv_id   TEXT NOT NULL,
  epoch     TEXT NOT NULL,
  UNIQUE (conv_id, epoch)
);
-- The log: appended in commit order (one row per conversation per commit).
CREATE TABLE log_chunks (
  chunk_id  INTEGER PRIMARY KEY,
  stream_no INTEGER NOT NULL,
  first_seq INTEGER NOT NULL,
  last_seq  INTEGER NOT NULL,
  body      BLOB NOT NULL
);
-- Where each stream's chunks are, by seq; written in batches (see sqlite-log.ts).
CREATE TABLE log_index (
  stream_no INTEGER NOT NULL,
  last_seq  INTEGER NOT NULL,
  first_seq INTEGER NOT NULL,
  chunk_id  INTEGER NOT NULL,
  PRIMARY KEY (stream_no, last_seq)
) WITHOUT ROWID;
CREATE TABLE log_meta (
  key   TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);
`;

interface V1Frame {
  convId: string;
  seq: number;
  epoch: string;
  type: string;
  entityId: string;
  json: string;
  createdAtMs: number;
}

const PAGE = 10_000;

/** Moves v1 `frames` rows into chunks and drops the v1 table. Runs after V2_SQL, in its transaction. */
export function moveV1Frames(db: Database): void {
  const page = db.prepare(`SELECT conv_id AS convId, seq, epoch, type, entity_id AS entityId, json, created_at_ms AS createdAtMs
    FROM frames WHERE (conv_id, seq) > (?, ?) ORDER BY conv_id, seq LIMIT ${PAGE}`);
  const insertStream = db.prepare(`INSERT INTO log_streams (conv_id, epoch) VALUES (?, ?) ON CONFLICT (conv_id, epoch) DO NOTHING`);
  const streamNo = db.prepare(`SELECT stream_no FROM log_streams WHERE conv_id = ? AND epoch = ?`).pluck();
  const insertChunk = db.prepare(`INSERT INTO log_chunks (stream_no, first_seq, last_seq, body) VALUES (?, ?, ?, ?)`);
  const insertIndex = db.prepare(`INSERT INTO log_index (stream_no, last_seq, first_seq, chunk_id) VALUES (?, ?, ?, ?)`);
  let chunk: V1Frame[] = [];
  let bytes = 0;
  let lastChunkId = 0;
  const flush = (): void => {
    if (chunk.length === 0) return;
    const first = chunk[0]!;
    const last = chunk[chunk.length - 1]!;
    insertStream.run(first.convId, first.epoch);
    const no = streamNo.get(first.convId, first.epoch) as number;
    lastChunkId = Number(insertChunk.run(no, first.seq, last.seq, encodeChunk(chunk)).lastInsertRowid);
    insertIndex.run(no, last.seq, first.seq, lastChunkId);
    chunk = [];
    bytes = 0;
  };
  let after: [string, number] = ['', -1];
  for (;;) {
    const rows = page.all(after[0], after[1]) as V1Frame[];
    for (const f of rows) {
      const prev = chunk[chunk.length - 1];
      if (prev && (f.convId !== prev.convId || f.seq !== prev.seq + 1 || f.epoch !== prev.epoch || chunk.length >= CHUNK_MAX_FRAMES || bytes >= CHUNK_MAX_BYTES)) flush();
      chunk.push(f);
      bytes += f.json.length;
    }
    if (rows.length < PAGE) break;
    const last = rows[rows.length - 1]!;
    after = [last.convId, last.seq];
  }
  flush();
  db.prepare(`INSERT INTO log_meta (key, value) VALUES ('indexed_through', ?)`).run(lastChunkId);
  db.exec('DROP TABLE frames');
}

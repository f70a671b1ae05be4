/** Cost model of the store: what a file holding one big conversation weighs, per frame. */
import { statSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import { decodeChunk } from '../../src/webchat/store/frame-chunk-codec';

export interface StoreCost {
  frames: number;
  fileBytes: number;
  bytesPerFrame: number;
  rowsPerFrame: number;
  rows: Record<string, number>;
  jsonBytesPerDelta: number;
}

const size = (p: string) => {
  try {
    return statSync(p).size;
  } catch {
    return 0;
  }
};

/** Call with every process closed (the WAL checkpointed into the file). */
export function storeCost(dbPath: string): StoreCost {
  const db = new BetterSqlite3(dbPath, { readonly: true });
  try {
    const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`).pluck().all() as string[]);
    const rows: Record<string, number> = {};
    for (const t of tables) rows[t] = db.prepare(`SELECT count(*) FROM "${t}"`).pluck().get() as number;
    // the log stores frames in chunks (one row per conversation per commit): count the frames
    const frames = (db.prepare(`SELECT coalesce(sum(last_seq - first_seq + 1), 0) FROM log_chunks`).pluck().get() as number) ?? 0;
    let deltas = 0;
    let deltaBytes = 0;
    for (const c of db.prepare(`SELECT first_seq AS firstSeq, body FROM log_chunks`).iterate() as Iterable<{ firstSeq: number; body: Buffer }>) {
      decodeChunk(c.body, c.firstSeq, 0, (f) => {
        if (f.type === 'llm.delta') {
          deltas++;
          deltaBytes += Buffer.byteLength(f.json);
        }
        return true;
      });
    }
    const jsonBytesPerDelta = deltas ? deltaBytes / deltas : 0;
    const fileBytes = size(dbPath) + size(`${dbPath}-wal`);
    const total = Object.entries(rows).filter(([t]) => t !== 'schema_migrations' && t !== 'meta').reduce((a, [, n]) => a + n, 0);
    return { frames, fileBytes, bytesPerFrame: fileBytes / Math.max(1, frames), rowsPerFrame: total / Math.max(1, frames), rows, jsonBytesPerDelta };
  } finally {
    db.close();
  }
}

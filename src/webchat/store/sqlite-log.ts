import type { Database, Statement } from 'better-sqlite3';
import { decodeChunk, encodeChunk } from './frame-chunk-codec';
import type { StoredFrame } from './store';
import { SeqConflictError } from './store-errors';

export { SeqConflictError } from './store-errors';

/**
 * The frame log of the SQLite store, shaped like what it is: an append.
 *
 * Layout (schema v2, sqlite-migrations.ts):
 * - `log_chunks (chunk_id INTEGER PRIMARY KEY, stream_no, first_seq, last_seq, body)`:
 *   one row per conversation per group commit (split at 256 frames / 64 KiB), its frames
 *   encoded by frame-chunk-codec.ts. chunk_id is commit order, so every commit appends to the
 *   right edge of ONE B-tree and writes about its frames' own bytes, however many
 *   conversations stream at once (a B-tree clustered by (conv_id, seq) dirtied one page per
 *   streaming conversation per commit). An id is never reused, even after a delete removed
 *   the newest chunks (the index high-water below relies on that): ids are assigned here, above
 *   `log_meta.chunk_floor`, which a delete raises to the highest id it saw (AUTOINCREMENT
 *   would write its sqlite_sequence page in every commit).
 * - `log_streams (stream_no, conv_id, epoch)`: a conversation's (conv_id, epoch) interned to a
 *   small integer, so chunks and index rows carry neither the conversation id nor the epoch.
 * - `log_index (stream_no, last_seq) → first_seq, chunk_id`: where a stream's chunks are, in seq
 *   order. Written LAZILY: a stream's newest chunks (its "tail") are indexed in memory only and
 *   written here in one go when the stream has INDEX_FLUSH_CHUNKS of them, or when its oldest
 *   un-indexed chunk is INDEX_MAX_LAG chunks behind the newest chunk; so a flush writes one or
 *   two index pages for hundreds of chunks.
 * - `log_meta ('indexed_through')`: every chunk with a smaller or equal id is in log_index.
 *   Start-up scans the chunks after it (at most ≈ INDEX_MAX_LAG) and rebuilds the tails.
 *
 * Durability: chunks, index rows and the high-water are written inside the caller's commit
 * transaction (the group commit), so a crash at any instant — mid-commit, mid-flush — leaves the
 * previous commit intact: nothing committed is lost, nothing half-written is read, and since
 * a commit's seqs must be above the stream's committed head (`SeqConflictError`), no seq is
 * ever stored twice. The in-memory tails are a cache of the database: a rolled-back commit,
 * or a commit by another connection (`PRAGMA data_version`), reloads them.
 *
 * Reads by (conv_id, since, limit) are exact: index rows with last_seq > since (a range scan
 * of log_index), each chunk's body by rowid, then the in-memory tail, decoding only the
 * frames above `since` and reading no body past `limit`.
 */

/** A chunk holds at most this many frames / body bytes (bounds a read's over-decoding). */
export const CHUNK_MAX_FRAMES = 256;
export const CHUNK_MAX_BYTES = 64 * 1024;
/** Defaults of the index flush policy (see the class comment). */
export const INDEX_FLUSH_CHUNKS = 256;
export const INDEX_MAX_LAG = 256 * 1024;
/** Index rows fetched per query while reading. */
const READ_PAGE = 128;
/** Conversations whose streams stay cached; beyond it, those with nothing un-indexed are dropped. */
export const MAX_CACHED_CONVS = 50_000;

export interface SqliteLogOptions {
  /** Flush a stream's tail when it has this many chunks (default INDEX_FLUSH_CHUNKS). */
  indexFlushChunks?: number;
  /** Flush a tail whose oldest chunk is this many chunks behind the newest (default INDEX_MAX_LAG). */
  indexMaxLag?: number;
  /** Conversations kept in the stream cache (default MAX_CACHED_CONVS). */
  maxCachedConversations?: number;
  /** Called inside the commit transaction after each index flush (test hooks). */
  onIndexFlush?: (flushes: number) => void;
}

interface ChunkRef {
  chunkId: number;
  firstSeq: number;
  lastSeq: number;
}

interface LogStream {
  no: number;
  convId: string;
  epoch: string;
  /** Highest last_seq in log_index (0: none). */
  indexedLastSeq: number;
  /** Chunks not yet in log_index, in seq order (all above indexedLastSeq). */
  tail: ChunkRef[];
}

const HIGH_WATER_KEY = 'indexed_through';
const CHUNK_FLOOR_KEY = 'chunk_floor';

function prepare(db: Database) {
  const p = (sql: string): Statement => db.prepare(sql);
  return {
    dataVersion: p(`PRAGMA data_version`).pluck(),
    highWater: p(`SELECT value FROM log_meta WHERE key = '${HIGH_WATER_KEY}'`).pluck(),
    setHighWater: p(`INSERT INTO log_meta (key, value) VALUES ('${HIGH_WATER_KEY}', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`),
    maxChunkId: p(`SELECT max(coalesce((SELECT max(chunk_id) FROM log_chunks), 0),
      coalesce((SELECT value FROM log_meta WHERE key = '${CHUNK_FLOOR_KEY}'), 0))`).pluck(),
    setChunkFloor: p(`INSERT INTO log_meta (key, value) VALUES ('${CHUNK_FLOOR_KEY}', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`),
    tailScan: p(`SELECT chunk_id AS chunkId, stream_no AS streamNo, first_seq AS firstSeq, last_seq AS lastSeq
      FROM log_chunks WHERE chunk_id > ? ORDER BY chunk_id`),
    streamsOf: p(`SELECT stream_no AS no, epoch FROM log_streams WHERE conv_id = ? ORDER BY stream_no`),
    convOfStream: p(`SELECT conv_id FROM log_streams WHERE stream_no = ?`).pluck(),
    indexedHead: p(`SELECT max(last_seq) FROM log_index WHERE stream_no = ?`).pluck(),
    insertStream: p(`INSERT INTO log_streams (conv_id, epoch) VALUES (?, ?)`),
    insertChunk: p(`INSERT INTO log_chunks (chunk_id, stream_no, first_seq, last_seq, body) VALUES (?, ?, ?, ?, ?)`),
    insertIndex: p(`INSERT INTO log_index (stream_no, last_seq, first_seq, chunk_id) VALUES (?, ?, ?, ?)`),
    indexedRefs: p(`SELECT chunk_id AS chunkId, first_seq AS firstSeq, last_seq AS lastSeq
      FROM log_index WHERE stream_no = ? AND last_seq > ? ORDER BY last_seq LIMIT ?`),
    chunkBody: p(`SELECT body FROM log_chunks WHERE chunk_id = ?`).pluck(),
    deleteIndexedChunks: p(`DELETE FROM log_chunks WHERE chunk_id IN (SELECT chunk_id FROM log_index WHERE stream_no = ?)`),
    deleteChunk: p(`DELETE FROM log_chunks WHERE chunk_id = ?`),
    deleteIndex: p(`DELETE FROM log_index WHERE stream_no = ?`),
    deleteStream: p(`DELETE FROM log_streams WHERE stream_no = ?`),
  };
}

/** The chunked frame log of one SQLite connection. Create after migrations; `load()` before use. */
export class SqliteLog {
  private readonly st: ReturnType<typeof prepare>;
  /** conv_id → all its streams (a conversation absent here has every chunk indexed). */
  private byConv = new Map<string, LogStream[]>();
  private byNo = new Map<number, LogStream>();
  /** Streams with a non-empty tail; insertion order = oldest tail first. */
  private tailed = new Map<number, LogStream>();
  private maxChunkId = 0;
  private dataVersion = -1;
  private flushes = 0;
  /** Memory changed inside the current transaction (a rollback must reload it). */
  private mutated = false;
  private readonly flushChunks: number;
  private readonly maxLag: number;
  private readonly maxCached: number;

  constructor(
    private readonly db: Database,
    private readonly opts: SqliteLogOptions = {},
  ) {
    this.st = prepare(db);
    this.flushChunks = Math.max(1, opts.indexFlushChunks ?? INDEX_FLUSH_CHUNKS);
    this.maxLag = Math.max(1, opts.indexMaxLag ?? INDEX_MAX_LAG);
    this.maxCached = Math.max(1, opts.maxCachedConversations ?? MAX_CACHED_CONVS);
  }

  /** (Re)builds the in-memory tails from the database: the chunks after the index high-water. */
  load(): void {
    this.byConv = new Map();
    this.byNo = new Map();
    this.tailed = new Map();
    const st = this.st;
    this.dataVersion = st.dataVersion.get() as number;
    this.maxChunkId = st.maxChunkId.get() as number;
    const from = (st.highWater.get() as number | undefined) ?? 0;
    for (const r of st.tailScan.all(from) as (ChunkRef & { streamNo: number })[]) {
      let s = this.byNo.get(r.streamNo);
      if (!s) {
        const convId = st.convOfStream.get(r.streamNo) as string | undefined;
        if (convId === undefined) continue; // cannot happen: a stream is deleted with its chunks
        this.conv(convId);
        s = this.byNo.get(r.streamNo)!;
      }
      if (r.lastSeq <= s.indexedLastSeq) continue; // indexed by a flush of its own stream
      this.addTail(s, { chunkId: r.chunkId, firstSeq: r.firstSeq, lastSeq: r.lastSeq });
    }
  }

  /** Drops the in-memory state when another connection committed (tests, tools on the same file). */
  private sync(): void {
    if ((this.st.dataVersion.get() as number) !== this.dataVersion) this.load();
  }

  /** Call after a commit transaction rolled back: memory may hold what it had written. */
  reset(): void {
    if (this.mutated) this.load();
    this.mutated = false;
  }

  private conv(convId: string): LogStream[] {
    let streams = this.byConv.get(convId);
    if (!streams) {
      streams = (this.st.streamsOf.all(convId) as { no: number; epoch: string }[]).map((r) => ({
        no: r.no,
        convId,
        epoch: r.epoch,
        indexedLastSeq: (this.st.indexedHead.get(r.no) as number | null) ?? 0,
        tail: [],
      }));
      if (this.byConv.size >= this.maxCached) this.prune();
      this.byConv.set(convId, streams);
      for (const s of streams) this.byNo.set(s.no, s);
    }
    return streams;
  }

  /** Drops cached conversations with no un-indexed chunk (reloaded from the database on use). */
  private prune(): void {
    for (const [convId, streams] of this.byConv) {
      if (this.byConv.size < this.maxCached * 0.8) return;
      if (streams.some((x) => x.tail.length > 0)) continue;
      this.byConv.delete(convId);
      for (const x of streams) this.byNo.delete(x.no);
    }
  }

  private static headOf(s: LogStream): number {
    return s.tail.length ? s.tail[s.tail.length - 1]!.lastSeq : s.indexedLastSeq;
  }

  private addTail(s: LogStream, ref: ChunkRef): void {
    if (s.tail.length === 0) this.tailed.set(s.no, s);
    s.tail.push(ref);
  }

  // ---- write (inside the caller's transaction) -------------------------------------------

  /**
   * Appends `frames` (any conversations, any order within a conversation) as chunks and flushes
   * due index tails. Call inside the commit transaction; on rollback call `reset()`.
   */
  append(frames: readonly StoredFrame[]): void {
    this.sync();
    if (frames.length === 0) return;
    this.mutated = true;
    const groups = new Map<string, number[]>();
    for (let i = 0; i < frames.length; i++) {
      const c = frames[i]!.convId;
      const g = groups.get(c);
      if (g) g.push(i);
      else groups.set(c, [i]);
    }
    const touched = new Set<LogStream>();
    for (const [convId, idx] of groups) {
      if (!isSortedBySeq(frames, idx)) idx.sort((a, b) => frames[a]!.seq - frames[b]!.seq);
      const streams = this.conv(convId);
      let head = 0;
      for (const s of streams) head = Math.max(head, SqliteLog.headOf(s));
      let start = 0;
      let bytes = 0;
      for (let k = 0; k < idx.length; k++) {
        const f = frames[idx[k]!]!;
        if (f.seq <= head) throw new SeqConflictError(idx[k]!, convId, f.seq, head);
        head = f.seq;
        const prev = k > start ? frames[idx[k - 1]!]! : null;
        if (prev && (f.seq !== prev.seq + 1 || f.epoch !== prev.epoch || k - start >= CHUNK_MAX_FRAMES || bytes >= CHUNK_MAX_BYTES)) {
          touched.add(this.writeChunk(streams, frames, idx, start, k));
          start = k;
          bytes = 0;
        }
        bytes += f.json.length;
      }
      touched.add(this.writeChunk(streams, frames, idx, start, idx.length));
    }
    this.flushDue(touched);
  }

  private writeChunk(streams: LogStream[], frames: readonly StoredFrame[], idx: number[], from: number, to: number): LogStream {
    const first = frames[idx[from]!]!;
    const last = frames[idx[to - 1]!]!;
    let s = streams.find((x) => x.epoch === first.epoch);
    if (!s) {
      const no = Number(this.st.insertStream.run(first.convId, first.epoch).lastInsertRowid);
      s = { no, convId: first.convId, epoch: first.epoch, indexedLastSeq: 0, tail: [] };
      streams.push(s);
      this.byNo.set(no, s);
    }
    const part: StoredFrame[] = new Array<StoredFrame>(to - from);
    for (let k = from; k < to; k++) part[k - from] = frames[idx[k]!]!;
    const chunkId = this.maxChunkId + 1;
    this.st.insertChunk.run(chunkId, s.no, first.seq, last.seq, encodeChunk(part));
    this.maxChunkId = chunkId;
    this.addTail(s, { chunkId, firstSeq: first.seq, lastSeq: last.seq });
    return s;
  }

  private flushDue(touched: Set<LogStream>): void {
    const due = new Set<LogStream>();
    for (const s of touched) if (s.tail.length >= this.flushChunks) due.add(s);
    for (const s of this.tailed.values()) {
      if (this.maxChunkId - s.tail[0]!.chunkId < this.maxLag) break; // oldest tails first
      due.add(s);
    }
    if (due.size === 0) return;
    for (const s of due) {
      for (const r of s.tail) this.st.insertIndex.run(s.no, r.lastSeq, r.firstSeq, r.chunkId);
      s.indexedLastSeq = s.tail[s.tail.length - 1]!.lastSeq;
      s.tail = [];
      this.tailed.delete(s.no);
    }
    let oldest: LogStream | undefined;
    for (const s of this.tailed.values()) {
      oldest = s;
      break;
    }
    this.st.setHighWater.run(oldest ? oldest.tail[0]!.chunkId - 1 : this.maxChunkId);
    this.flushes++;
    this.opts.onIndexFlush?.(this.flushes);
  }

  /** Call after the commit transaction committed: the connection's own write is not foreign. */
  committed(): void {
    this.dataVersion = this.st.dataVersion.get() as number;
    this.mutated = false;
  }

  /** Deletes every chunk, index row and stream of the conversation (inside a transaction). */
  deleteConversation(convId: string): void {
    this.sync();
    this.mutated = true;
    const streams = this.conv(convId);
    if (streams.length) this.st.setChunkFloor.run(this.maxChunkId); // its ids are never reused
    for (const s of streams) {
      this.st.deleteIndexedChunks.run(s.no);
      for (const r of s.tail) this.st.deleteChunk.run(r.chunkId);
      this.st.deleteIndex.run(s.no);
      this.st.deleteStream.run(s.no);
      this.tailed.delete(s.no);
      this.byNo.delete(s.no);
    }
    this.byConv.delete(convId);
  }

  // ---- reads -----------------------------------------------------------------------------

  /** The highest committed seq of the conversation (0: none) and the epoch of that frame. */
  head(convId: string): { lastSeq: number; epoch: string | null } {
    this.sync();
    let lastSeq = 0;
    let epoch: string | null = null;
    for (const s of this.conv(convId)) {
      const h = SqliteLog.headOf(s);
      if (h > lastSeq) {
        lastSeq = h;
        epoch = s.epoch;
      }
    }
    return { lastSeq, epoch };
  }

  /** Frames with seq > since, ascending, at most `limit`. Call inside a read transaction. */
  read(convId: string, since: number, limit: number): StoredFrame[] {
    this.sync();
    const out: StoredFrame[] = [];
    const streams = this.conv(convId);
    if (limit <= 0 || streams.length === 0) return out;
    if (streams.length === 1) {
      this.readStream(streams[0]!, since, limit, out);
      return out;
    }
    // Several epochs (the log was restored from a backup): merge their chunks by seq.
    const refs: { s: LogStream; r: ChunkRef }[] = [];
    for (const s of streams) {
      for (const r of this.st.indexedRefs.all(s.no, since, limit) as ChunkRef[]) refs.push({ s, r });
      for (const r of s.tail) if (r.lastSeq > since) refs.push({ s, r });
    }
    refs.sort((a, b) => a.r.firstSeq - b.r.firstSeq);
    for (const { s, r } of refs) {
      if (out.length >= limit) break;
      this.decodeInto(s, this.st.chunkBody.get(r.chunkId) as Buffer, r.firstSeq, since, limit, out);
    }
    return out;
  }

  private readStream(s: LogStream, since: number, limit: number, out: StoredFrame[]): void {
    let cursor = since;
    while (out.length < limit && cursor < s.indexedLastSeq) {
      // where the chunks are first (index only), then each body by rowid: a body is read only
      // when its frames are wanted
      const refs = this.st.indexedRefs.all(s.no, cursor, READ_PAGE) as ChunkRef[];
      for (const r of refs) {
        this.decodeInto(s, this.st.chunkBody.get(r.chunkId) as Buffer, r.firstSeq, since, limit, out);
        cursor = r.lastSeq;
        if (out.length >= limit) return;
      }
      if (refs.length < READ_PAGE) break;
    }
    const tail = s.tail;
    let lo = 0;
    let hi = tail.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (tail[mid]!.lastSeq <= since) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < tail.length && out.length < limit; i++) {
      const r = tail[i]!;
      this.decodeInto(s, this.st.chunkBody.get(r.chunkId) as Buffer, r.firstSeq, since, limit, out);
    }
  }

  private decodeInto(s: LogStream, body: Buffer, firstSeq: number, since: number, limit: number, out: StoredFrame[]): void {
    decodeChunk(body, firstSeq, since, (f) => {
      out.push({ convId: s.convId, seq: f.seq, epoch: s.epoch, type: f.type, entityId: f.entityId, json: f.json, createdAtMs: f.createdAtMs });
      return out.length < limit;
    });
  }

  /** Test and bench introspection: how many chunks are only indexed in memory. */
  get tailChunks(): number {
    let n = 0;
    for (const s of this.tailed.values()) n += s.tail.length;
    return n;
  }
}

function isSortedBySeq(frames: readonly StoredFrame[], idx: number[]): boolean {
  for (let k = 1; k < idx.length; k++) if (frames[idx[k]!]!.seq <= frames[idx[k - 1]!]!.seq) return false;
  return true;
}

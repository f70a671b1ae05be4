import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { Block } from '../../inference/turn';
import { hashBlock, type HashedBlock } from './block-hash';
import { SqliteLog, type SqliteLogOptions } from './sqlite-log';
import { describeItem, SeqConflictError, StoreCommitError, type CommitPart } from './store-errors';

export { StoreCommitError } from './store-errors';
import { migrateSchema } from './sqlite-migrations';
import {
  jsonText,
  toConversation,
  toEntity,
  toPause,
  toQueue,
  toSnapshot,
  type ConversationDbRow,
  type EntityDbRow,
  type PauseDbRow,
  type QueueDbRow,
  type SnapshotDbRow,
} from './sqlite-rows';
import { CONVERSATION_TABLES, prepareStatements, type Statements } from './sqlite-statements';
import type {
  CommitBatch,
  ConversationRow,
  EntityRow,
  IdempotencyRow,
  PauseRow,
  QueueRow,
  RunRow,
  Store,
  StoredFrame,
  TurnSnapshot,
} from './store';

export interface SqliteEngineOptions {
  /** File path, or `:memory:`. The parent directory of a file is created. */
  path: string;
  /** How long a statement waits for another connection's lock (default 5000 ms). */
  busyTimeoutMs?: number;
  /** Index flush policy of the frame log (tests); defaults in sqlite-log.ts. */
  log?: SqliteLogOptions;
}

/** The message of the error every method of a closed store throws. */
export const STORE_CLOSED_MESSAGE = 'SqliteStore: the store is closed';

/** Rows deleted per transaction by `expireIdempotency` (keeps each transaction short). */
const EXPIRE_CHUNK = 1000;


interface Transactions {
  commit: BetterSqlite3.Transaction<(batch: CommitBatch, snapshotBlocks: HashedBlock[][]) => void>;
  saveSnapshot: BetterSqlite3.Transaction<(s: TurnSnapshot, hashed: HashedBlock[]) => void>;
  loadTurns: BetterSqlite3.Transaction<(convId: string) => TurnSnapshot[]>;
  loadProjection: BetterSqlite3.Transaction<(convId: string) => { cursor: number; entities: EntityRow[] }>;
  readFrames: BetterSqlite3.Transaction<(convId: string, since: number, limit: number) => StoredFrame[]>;
  deleteConversation: BetterSqlite3.Transaction<(convId: string, atMs: number) => void>;
}


/**
 * The SQLite engine of the embedded store (D11): one SQLite file in WAL mode through
 * better-sqlite3. Every method is async to satisfy the interface but does its work
 * synchronously, on the thread that calls it; each write is one short transaction. Call
 * `migrate()` once before anything else.
 *
 * It runs either on a worker thread (sqlite-worker.ts, the default: `SqliteStore` in
 * sqlite-store.ts sends it messages, so no commit blocks the event loop) or in-process on the
 * caller's thread (`SqliteStore` with `thread: false`). Either way it is the only connection
 * its process writes with, so its in-memory log state (sqlite-log.ts) is the log's.
 */
export class SqliteEngine implements Store {
  readonly kind = 'sqlite' as const;
  readonly path: string;
  private readonly db: BetterSqlite3.Database;
  private st: Statements | null = null;
  private tx: Transactions | null = null;
  private log: SqliteLog | null = null;
  private readonly logOptions: SqliteLogOptions;
  /** TEST-ONLY: see `slowCommitHook`. 0 in production. */
  private readonly slowCommitMs: number;

  constructor(opts: SqliteEngineOptions) {
    this.path = opts.path;
    this.logOptions = { ...killHooks(), ...opts.log };
    this.slowCommitMs = slowCommitHook();
    const inMemory = opts.path === ':memory:' || opts.path === '';
    if (!inMemory) mkdirSync(dirname(resolve(opts.path)), { recursive: true });
    this.db = new BetterSqlite3(opts.path);
    this.db.pragma(`busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs ?? 5000))}`);
    this.db.pragma('journal_mode = WAL'); // answers 'memory' for :memory:, which is fine
    this.db.pragma('synchronous = NORMAL');
    // No foreign keys: every table is keyed by conv_id and deleteConversation clears them all.
    this.db.pragma('foreign_keys = OFF');
    this.db.pragma('temp_store = MEMORY');
  }

  async migrate(): Promise<void> {
    migrateSchema(this.db);
    if (!this.st) {
      const st = prepareStatements(this.db);
      const log = new SqliteLog(this.db, this.logOptions);
      log.load();
      this.st = st;
      this.log = log;
      this.tx = {
        commit: this.db.transaction((batch: CommitBatch, snapshotBlocks: HashedBlock[][]) => {
          this.applyBatch(st, batch, snapshotBlocks);
          if (this.slowCommitMs > 0) sleepSync(this.slowCommitMs);
        }),
        saveSnapshot: this.db.transaction((s: TurnSnapshot, hashed: HashedBlock[]) => this.writeSnapshot(st, s, hashed)),
        loadTurns: this.db.transaction((convId: string) => this.readTurns(st, convId)),
        loadProjection: this.db.transaction((convId: string) => ({
          cursor: (st.getCursor.get(convId) as number | undefined) ?? 0,
          entities: (st.listEntities.all(convId) as EntityDbRow[]).map(toEntity),
        })),
        readFrames: this.db.transaction((convId: string, since: number, limit: number) => log.read(convId, since, limit)),
        deleteConversation: this.db.transaction((convId: string, atMs: number) => {
          log.deleteConversation(convId);
          st.deleteOrphanBlocks.run({ convId }); // reads conversation_blocks, so before that table is cleared
          for (const table of CONVERSATION_TABLES) st.deleteFrom[table].run(convId);
          st.insertTombstone.run(convId, atMs);
        }),
      };
    }
  }

  async ping(): Promise<boolean> {
    try {
      if (!this.db.open) return false;
      return (this.st ? this.st.ping.get() : this.db.prepare('SELECT 1').pluck().get()) === 1;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.st = null;
    this.tx = null;
    this.log = null;
    if (this.db.open) this.db.close();
  }

  // ---- the atomic write path -------------------------------------------------------------

  async commit(batch: CommitBatch): Promise<void> {
    // hashing the snapshots' blocks is the slow part: outside the transaction
    const snapshotBlocks = (batch.turnSnapshots ?? []).map((s) => s.blocks.map(hashBlock));
    const tx = this.transactions();
    try {
      // IMMEDIATE: take the write lock up front (never upgrade a read lock under contention).
      tx.commit.immediate(batch, snapshotBlocks);
    } catch (err) {
      this.log!.reset(); // the log's in-memory index may hold chunks of the rolled-back commit
      throw err;
    }
    this.log!.committed();
  }

  private applyBatch(st: Statements, b: CommitBatch, snapshotBlocks: HashedBlock[][]): void {
    let part: CommitPart = 'conversations';
    let i = 0;
    try {
      for (i = 0; i < b.conversations.length; i++) {
        const u = b.conversations[i]!;
        const c = u.create;
        if (c.convId !== u.convId) throw new Error(`create.convId ${c.convId} differs from ${u.convId}`);
        const d = u.update;
        st.upsertConversation.run({
          convId: u.convId,
          title: c.title,
          createdAtMs: c.createdAtMs,
          lastActivityMs: c.lastActivityMs,
          runtimeKey: c.runtimeKey,
          busyPolicy: c.busyPolicy,
          stepMode: c.stepMode ? 1 : 0,
          principal: c.principal,
          epoch: c.epoch,
          lastSeq: c.lastSeq,
          uTitle: d.title ?? null,
          uLastActivityMs: d.lastActivityMs ?? null,
          uRuntimeKey: d.runtimeKey ?? null,
          uBusyPolicy: d.busyPolicy ?? null,
          uStepMode: d.stepMode === undefined ? null : d.stepMode ? 1 : 0,
          uEpoch: d.epoch ?? null,
          uLastSeq: d.lastSeq ?? null,
          hasUpdate: Object.values(d).some((v) => v !== undefined) ? 1 : 0,
        });
      }
      part = 'frames';
      i = 0;
      try {
        this.log!.append(b.frames);
      } catch (err) {
        if (err instanceof SeqConflictError) i = err.index;
        throw err;
      }
      part = 'runs';
      for (i = 0; i < b.runs.length; i++) {
        const r = b.runs[i]!;
        st.upsertRun.run(r.inferenceId, r.convId, r.turnId, r.status, r.reason, r.startedAtMs, r.endedAtMs, r.endSeq);
      }
      part = 'pauses';
      for (i = 0; i < b.pauses.length; i++) {
        const p = b.pauses[i]!;
        st.upsertPause.run(p.pauseId, p.convId, p.inferenceId, p.phase, p.summary, p.deadlineMs, JSON.stringify(p.toolCallIds), p.resolution);
      }
      part = 'queueInserts';
      for (i = 0; i < b.queueInserts.length; i++) {
        const q = b.queueInserts[i]!;
        st.insertQueue.run(q.convId, q.turnId, q.orderKey, q.prompt, q.idempotencyKey, q.principal, jsonText(q.runtime), q.acceptedAtMs);
      }
      part = 'queueDeletes';
      for (i = 0; i < b.queueDeletes.length; i++) {
        const q = b.queueDeletes[i]!;
        st.deleteQueue.run(q.convId, q.turnId);
      }
      part = 'idempotency';
      for (i = 0; i < b.idempotency.length; i++) {
        const r = b.idempotency[i]!;
        st.insertIdempotency.run(r.principal, r.key, r.convId, r.turnId, r.promptHash, r.createdAtMs, r.endedAtMs);
      }
      part = 'idempotencyEnded';
      for (i = 0; i < b.idempotencyEnded.length; i++) {
        const e = b.idempotencyEnded[i]!;
        st.endIdempotency.run(e.endedAtMs, e.principal, e.key);
      }
      part = 'projections';
      for (i = 0; i < b.projections.length; i++) {
        const p = b.projections[i]!;
        for (const e of p.upserts) {
          st.upsertEntity.run(p.convId, e.id, e.kind, e.firstSeq, e.version, e.createdAtMs, e.updatedAtMs, jsonText(e.props));
        }
        st.upsertCursor.run(p.convId, p.cursor);
      }
      part = 'turnSnapshots';
      const snaps = b.turnSnapshots ?? [];
      for (i = 0; i < snaps.length; i++) this.writeSnapshot(st, snaps[i]!, snapshotBlocks[i]!);
    } catch (err) {
      throw new StoreCommitError(part, describeItem(b, part, i), err);
    }
  }

  // ---- reads -----------------------------------------------------------------------------

  async getConversation(convId: string): Promise<ConversationRow | null> {
    const row = this.statements().getConversation.get(convId) as ConversationDbRow | undefined;
    return row ? toConversation(row) : null;
  }

  async listConversations(opts: {
    limit: number;
    before?: { lastActivityMs: number; convId: string } | null;
    principal?: string | null;
  }): Promise<ConversationRow[]> {
    const st = this.statements();
    const limit = Math.max(0, Math.floor(opts.limit));
    if (limit === 0) return [];
    const before = opts.before ?? null;
    const principal = opts.principal ?? null;
    // better-sqlite3 ignores named parameters a statement does not use.
    const params = { limit, principal, beforeMs: before?.lastActivityMs ?? null, beforeId: before?.convId ?? null };
    const stmt =
      principal === null
        ? before
          ? st.listConversationsBefore
          : st.listConversations
        : before
          ? st.listConversationsOfBefore
          : st.listConversationsOf;
    return (stmt.all(params) as ConversationDbRow[]).map(toConversation);
  }

  async isTombstoned(convId: string): Promise<boolean> {
    return this.statements().isTombstoned.get(convId) !== undefined;
  }

  async readFrames(convId: string, since: number, limit: number): Promise<StoredFrame[]> {
    const n = Math.max(0, Math.floor(limit));
    if (n === 0) return [];
    return this.transactions().readFrames(convId, since, n); // one read transaction: index and chunks agree
  }

  async logHead(convId: string): Promise<{ lastSeq: number; epoch: string | null }> {
    const st = this.statements();
    const head = this.log!.head(convId);
    const epoch = (st.conversationEpoch.get(convId) as string | undefined) ?? head.epoch;
    return { lastSeq: head.lastSeq, epoch };
  }

  async listOpenRuns(): Promise<RunRow[]> {
    return this.statements().listOpenRuns.all() as RunRow[];
  }

  async getRun(convId: string, inferenceId: string): Promise<RunRow | null> {
    return (this.statements().getRun.get(inferenceId, convId) as RunRow | undefined) ?? null;
  }

  async listRecentRuns(convId: string, limit: number): Promise<RunRow[]> {
    const n = Math.max(0, Math.floor(limit));
    return n === 0 ? [] : (this.statements().listRecentRuns.all(convId, n) as RunRow[]);
  }

  async listOpenPauses(convId: string): Promise<PauseRow[]> {
    return (this.statements().listOpenPauses.all(convId) as PauseDbRow[]).map(toPause);
  }

  async listQueue(convId: string): Promise<QueueRow[]> {
    return (this.statements().listQueue.all(convId) as QueueDbRow[]).map(toQueue);
  }

  async listConversationsWithQueue(): Promise<string[]> {
    return this.statements().listConversationsWithQueue.all() as string[];
  }

  async getIdempotency(principal: string, key: string): Promise<IdempotencyRow | null> {
    return (this.statements().getIdempotency.get(principal, key) as IdempotencyRow | undefined) ?? null;
  }

  async loadProjection(convId: string): Promise<{ cursor: number; entities: EntityRow[] }> {
    return this.transactions().loadProjection(convId); // one read transaction: cursor and entities agree
  }

  // ---- turns -----------------------------------------------------------------------------

  async saveTurnSnapshot(s: TurnSnapshot): Promise<void> {
    const tx = this.transactions();
    const hashed = s.blocks.map(hashBlock); // outside the transaction: hashing is the slow part
    tx.saveSnapshot.immediate(s, hashed);
  }

  private writeSnapshot(st: Statements, s: TurnSnapshot, hashed: HashedBlock[]): void {
    for (const h of hashed) {
      // A conversation_blocks row implies its block row exists (delete removes both), so a block
      // this conversation already stored costs one index probe and no JSON copy.
      if (st.insertConversationBlock.run(s.convId, h.hash).changes === 1) st.insertBlock.run(h.hash, h.json);
    }
    const packed = Buffer.concat(hashed.map((h) => h.hash));
    st.upsertTurn.run(s.convId, s.turnId, s.phase);
    st.upsertSnapshot.run(s.convId, s.turnId, s.phase, s.inferenceId, s.status, s.createdAtMs, Date.now(), jsonText(s.metadata), hashed.length, packed);
  }

  async loadTurns(convId: string): Promise<TurnSnapshot[]> {
    return this.transactions().loadTurns(convId);
  }

  private readTurns(st: Statements, convId: string): TurnSnapshot[] {
    const cache = new Map<string, Block>();
    const lookup = (hash: Buffer): Block => {
      const key = hash.toString('hex');
      let block = cache.get(key);
      if (!block) {
        const json = st.getBlock.get(hash) as string | undefined;
        if (json === undefined) throw new Error(`store: block ${key} of conversation ${convId} is missing`);
        block = JSON.parse(json) as Block;
        cache.set(key, block);
      }
      return block;
    };
    // Blocks are immutable values: turns that share a block share the parsed object.
    return (st.latestSnapshots.all(convId) as SnapshotDbRow[]).map((r) => toSnapshot(r, lookup));
  }

  // ---- delete ----------------------------------------------------------------------------

  /** Removes every row of the conversation, and the blocks no other conversation references. */
  async deleteConversation(convId: string, atMs: number): Promise<void> {
    try {
      this.transactions().deleteConversation.immediate(convId, atMs);
    } catch (err) {
      this.log!.reset();
      throw err;
    }
    this.log!.committed();
  }

  /** Deletes in chunks of EXPIRE_CHUNK rows, one short transaction each. */
  async expireIdempotency(beforeMs: number): Promise<number> {
    const st = this.statements();
    let total = 0;
    for (;;) {
      const n = st.expireIdempotency.run(beforeMs, EXPIRE_CHUNK).changes;
      total += n;
      if (n < EXPIRE_CHUNK) return total;
    }
  }

  private transactions(): Transactions {
    this.statements();
    return this.tx!;
  }

  private statements(): Statements {
    if (!this.st) {
      throw new Error(this.db.open ? 'SqliteStore: call migrate() before using the store' : STORE_CLOSED_MESSAGE);
    }
    return this.st;
  }
}


/**
 * TEST-ONLY crash hook: with WEBCHAT_TEST_KILL_AT_INDEX_FLUSH=N the process kills itself with
 * SIGKILL inside the commit transaction of its Nth log index flush (index rows written, not yet
 * committed), so a kill -9 test hits that instant deterministically. Production never sets it.
 */
function killHooks(): SqliteLogOptions {
  const n = Number(process.env.WEBCHAT_TEST_KILL_AT_INDEX_FLUSH ?? '');
  if (!Number.isInteger(n) || n <= 0) return {};
  const flushChunks = Number(process.env.WEBCHAT_TEST_INDEX_FLUSH_CHUNKS ?? '');
  return {
    ...(Number.isInteger(flushChunks) && flushChunks > 0 ? { indexFlushChunks: flushChunks } : {}),
    onIndexFlush: (count) => {
      if (count >= n) process.kill(process.pid, 'SIGKILL');
    },
  };
}

/**
 * TEST-ONLY slow-commit hook: with WEBCHAT_TEST_SLOW_COMMIT_MS=N every commit transaction holds
 * its thread for N ms before committing (a synchronous sleep), so a test can show that a long
 * commit on the worker thread does not block the event loop. Production never sets it.
 */
function slowCommitHook(): number {
  const n = Number(process.env.WEBCHAT_TEST_SLOW_COMMIT_MS ?? '');
  return Number.isInteger(n) && n > 0 ? n : 0;
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

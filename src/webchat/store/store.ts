import type { Block } from '../../inference/turn';
import type { BusyPolicy } from '../../protocol/http';

/**
 * The persistence interface of the webchat layer (D11). One interface, several engines
 * (SQLite embedded default; PostgreSQL for scale-out). Every method is async so an engine may
 * be remote or off-thread: the SQLite store runs better-sqlite3 (synchronous) on a worker
 * thread by default (sqlite-store.ts), so no transaction ever runs on the event loop; callers
 * must never assume a call completed before its promise resolved.
 *
 * ## The commit shape (what every engine implements the same way)
 *
 * Writes arrive through `commit(batch)` only (turn snapshots and deletes aside): the group
 * committer (group-committer.ts) gathers, for a window of a few milliseconds, the frames of
 * EVERY conversation this process owns plus the rows that must become durable with them, and
 * hands them over as one `CommitBatch`. Commits are serial (the next batch is built while one
 * commits, never committed concurrently), so commit order is seq order per conversation.
 *
 * An engine must guarantee, for each `commit`:
 * - **One transaction, all or nothing.** Every part of the batch becomes durable and visible to
 *   readers together, or nothing does (then it throws; the committer retries the same batch,
 *   and nothing new becomes visible meanwhile: D2). After it resolves, a crash of the process
 *   loses none of it.
 * - **Batched writes.** The cost must not be one round trip or one random page per frame:
 *   frames go in as few statements as the engine allows (SQLite: one chunk row per
 *   conversation per commit, appended in commit order — sqlite-log.ts; PostgreSQL: multi-row
 *   INSERT / COPY of the batch's frames, one statement per table), and the other parts as
 *   multi-row upserts.
 * - **Seq is append-only per conversation.** A frame whose seq is not above its conversation's
 *   committed head (or repeats one in the batch) fails the whole commit with code
 *   `seq_conflict`; so no seq is ever stored twice, whatever a caller or a second owner does.
 *   In scale-out the same transaction also checks the owner's fencing token (`fences`,
 *   PostgreSQL only; runtime.md "Scale-out").
 * - **Run and pause rows are the compare-and-set's result (D5).** The caller decided the CAS
 *   in memory before appending; `runs` and `pauses` are written in the same transaction as the
 *   frame that changed them, so the stored state never disagrees with the log.
 * - **Reads see committed data only**: `readFrames(convId, since, limit)` returns exactly the
 *   committed frames above `since`, ascending, byte-identical JSON, from any connection.
 *
 * Rows beside the frames may lag the log (the conversation head row, the projection: the
 * caller writes them at most every few seconds while a conversation streams); loading replays
 * the log from the projection cursor, and `logHead` reads the head from the log itself.
 */
export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  /** Runs migrations; refuses to open a database whose schema is newer than this code. */
  migrate(): Promise<void>;
  /** Cheap liveness probe for /readyz. */
  ping(): Promise<boolean>;
  close(): Promise<void>;

  // ---- the atomic write path -------------------------------------------------------------
  /**
   * Commits one group-commit batch in ONE transaction: frames of any number of conversations
   * plus everything that must become durable together with them (conversation rows, run and
   * pause state, queue and idempotency records, projection entities + cursor). All or nothing;
   * see "The commit shape" above for what an engine guarantees.
   */
  commit(batch: CommitBatch): Promise<void>;

  // ---- reads -----------------------------------------------------------------------------
  getConversation(convId: string): Promise<ConversationRow | null>;
  /** Newest activity first; keyset paging on (last_activity_ms, conv_id). */
  listConversations(opts: { limit: number; before?: { lastActivityMs: number; convId: string } | null; principal?: string | null }): Promise<ConversationRow[]>;
  isTombstoned(convId: string): Promise<boolean>;
  /** Frames with seq > since, ascending, at most `limit`. */
  readFrames(convId: string, since: number, limit: number): Promise<StoredFrame[]>;
  /** The highest committed seq (0 when none) and the epoch. */
  logHead(convId: string): Promise<{ lastSeq: number; epoch: string | null }>;
  /** Runs that are open (no run.end), across all conversations: start-up closes them. */
  listOpenRuns(): Promise<RunRow[]>;
  getRun(convId: string, inferenceId: string): Promise<RunRow | null>;
  /** The most recent runs of a conversation, newest first. */
  listRecentRuns(convId: string, limit: number): Promise<RunRow[]>;
  listOpenPauses(convId: string): Promise<PauseRow[]>;
  /** Queued prompts in order. */
  listQueue(convId: string): Promise<QueueRow[]>;
  /** Conversations that have queued prompts (start-up drains them). */
  listConversationsWithQueue(): Promise<string[]>;
  getIdempotency(principal: string, key: string): Promise<IdempotencyRow | null>;
  loadProjection(convId: string): Promise<{ cursor: number; entities: EntityRow[] }>;

  // ---- turns (blocks stored once by content hash) ----------------------------------------
  /** Upserts the snapshot of `turnId` at `phase`; blocks are stored once by content hash. */
  saveTurnSnapshot(s: TurnSnapshot): Promise<void>;
  /** For each turn of the conversation (oldest first) its latest snapshot, blocks resolved. */
  loadTurns(convId: string): Promise<TurnSnapshot[]>;

  // ---- delete ----------------------------------------------------------------------------
  /** Removes everything of the conversation and leaves a tombstone, in one transaction. */
  deleteConversation(convId: string, atMs: number): Promise<void>;
  /** Expires idempotency records whose run ended before `beforeMs`. */
  expireIdempotency(beforeMs: number): Promise<number>;
}

export interface StoredFrame {
  convId: string;
  seq: number;
  epoch: string;
  type: string;
  entityId: string;
  /** The exact envelope JSON the WebSocket delivers. */
  json: string;
  createdAtMs: number;
}

export interface ConversationRow {
  convId: string;
  title: string;
  createdAtMs: number;
  lastActivityMs: number;
  runtimeKey: string;
  busyPolicy: BusyPolicy;
  stepMode: boolean;
  principal: string | null;
  epoch: string;
  lastSeq: number;
}

export type RunRowStatus = 'open' | 'completed' | 'cancelled' | 'error' | 'interrupted';
export interface RunRow {
  convId: string;
  inferenceId: string;
  turnId: string;
  status: RunRowStatus;
  reason: string | null;
  startedAtMs: number;
  endedAtMs: number | null;
  /** seq of its run.end frame, when closed. */
  endSeq: number | null;
}

export interface PauseRow {
  convId: string;
  pauseId: string;
  inferenceId: string;
  phase: 'after_inference' | 'after_tools' | 'approval';
  summary: string;
  deadlineMs: number;
  toolCallIds: string[];
  /** null while open. */
  resolution: string | null;
}

export interface QueueRow {
  convId: string;
  turnId: string;
  /** Ordering key (the seq of its `run.queued` frame, or lower for interrupt-ahead items). */
  orderKey: number;
  prompt: string;
  idempotencyKey: string | null;
  principal: string | null;
  /** The runtime (profile) snapshot the prompt was accepted with, as JSON-able data. */
  runtime: unknown;
  acceptedAtMs: number;
}

export interface IdempotencyRow {
  principal: string;
  key: string;
  convId: string;
  turnId: string;
  promptHash: string;
  createdAtMs: number;
  /** Set when the prompt's run ended (records expire 24 h after). */
  endedAtMs: number | null;
}

export interface EntityRow {
  id: string;
  kind: string;
  firstSeq: number;
  version: number;
  createdAtMs: number;
  updatedAtMs: number;
  props: unknown;
}

export interface TurnSnapshot {
  convId: string;
  turnId: string;
  phase: 'pre_inference' | 'post_inference' | 'post_tools' | 'final';
  inferenceId: string | null;
  status: string | null;
  createdAtMs: number;
  blocks: Block[];
  metadata: Record<string, unknown>;
}

/**
 * Everything one transaction makes durable. Arrays are applied in order. `frames` may
 * interleave conversations; within one conversation their seqs ascend (an engine may sort
 * them) and start above the committed head.
 */
export interface CommitBatch {
  conversations: ConversationUpsert[];
  frames: StoredFrame[];
  runs: RunRow[];
  pauses: PauseRow[];
  queueInserts: QueueRow[];
  queueDeletes: { convId: string; turnId: string }[];
  idempotency: IdempotencyRow[];
  /** Marks idempotency records of finished prompts (`endedAtMs`). */
  idempotencyEnded: { principal: string; key: string; endedAtMs: number }[];
  projections: { convId: string; cursor: number; upserts: EntityRow[] }[];
  /**
   * Turn snapshots (as `saveTurnSnapshot`), written in the same transaction after everything
   * else, in order (a later snapshot of the same turn and phase replaces an earlier one). A
   * run's snapshots ride the group commit, so they are retried with its frames and become
   * durable together with them.
   */
  turnSnapshots: TurnSnapshot[];
  /**
   * Scale-out fencing (optional; absent in one-process modes). For each entry the commit checks
   * the conversation row's stored fence: `fence <= token` → the row takes `token`; otherwise
   * (another instance committed with a newer token) the whole commit fails with code `fenced`.
   * Checked after `conversations` (so a conversation created in this batch has its row) and
   * before `frames`. The SQLite engine (one process, no leases) ignores it.
   */
  fences?: { convId: string; token: number }[];
}

/** Insert-or-update of a conversation row; only the listed fields change on update. */
export interface ConversationUpsert {
  convId: string;
  create: ConversationRow;
  update: Partial<Pick<ConversationRow, 'title' | 'lastActivityMs' | 'runtimeKey' | 'busyPolicy' | 'stepMode' | 'epoch' | 'lastSeq'>>;
}

export function emptyBatch(): CommitBatch {
  return { conversations: [], frames: [], runs: [], pauses: [], queueInserts: [], queueDeletes: [], idempotency: [], idempotencyEnded: [], projections: [], turnSnapshots: [] };
}

/** Thrown when the database was written by a newer version of this program. */
export class SchemaTooNewError extends Error {
  readonly code = 'schema_too_new';
  constructor(found: number, supported: number, elsewhere = 'use another --db') {
    super(`database schema version ${found} is newer than this program supports (${supported}); upgrade moments-webchat or ${elsewhere}`);
  }
}

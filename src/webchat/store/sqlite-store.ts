import { SqliteEngine, type SqliteEngineOptions } from './sqlite-engine';
import { SqliteWorkerClient } from './sqlite-worker-client';
import type { CommitBatch, Store } from './store';

export { StoreCommitError, STORE_CLOSED_MESSAGE } from './sqlite-engine';

export interface SqliteStoreOptions extends SqliteEngineOptions {
  /**
   * Where the SQLite work runs. `true` (default): on a worker thread with its own connection
   * (sqlite-worker.ts), so a group commit, a catch-up read or a migration never blocks the
   * event loop. `false`: synchronously on the calling thread (`--db-inline`): no thread hop,
   * but every commit holds the event loop for its duration.
   */
  thread?: boolean;
}

/**
 * The embedded store (D11): one SQLite file in WAL mode, one writing connection per process.
 *
 * ## Where the SQLite work runs
 *
 * By default the whole engine (`SqliteEngine`: the connection, its prepared statements, the
 * log's in-memory per-conversation index and stream cache of sqlite-log.ts) lives on ONE
 * worker thread; this class sends it each call as a message and resolves with its reply
 * (sqlite-worker-client.ts). Reads go to the same thread rather than to a second, read-only
 * connection on the main thread: the log's lazy index (the newest chunks of each stream are
 * indexed in memory only) belongs to the connection that writes it, and a second connection
 * would have to rebuild it after every commit (`PRAGMA data_version`), i.e. all the time under
 * load. One owner keeps it exact with no locking, and keeps the order of effects the order of
 * calls: the worker runs messages one at a time, as sent.
 *
 * Every guarantee of the `Store` contract holds unchanged, because the same engine code runs
 * the same transactions; only where it runs moves:
 * - D2: a `commit` resolves only after the worker's transaction committed, and the group
 *   committer publishes frames only then. If the worker dies, pending calls reject and
 *   nothing is published.
 * - D5 and `seq_conflict`: checked inside the engine's transaction, as before; errors come back
 *   as the same classes with the same `code`, `part` and message (sqlite-wire.ts).
 * - Crash safety: the worker is a thread of this process; kill -9 stops both, and SQLite's WAL
 *   keeps exactly the committed transactions.
 * - `:memory:`: the in-memory database lives on the worker thread, which is its only user.
 *
 * Frames cross the thread boundary packed (sqlite-wire.ts): one string and two typed arrays
 * per batch, not thousands of objects.
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly path: string;
  /** True when the engine runs on a worker thread. */
  readonly threaded: boolean;
  private readonly engine: Store;

  constructor(opts: SqliteStoreOptions) {
    const { thread = true, ...engineOpts } = opts;
    this.path = opts.path;
    this.threaded = thread;
    this.engine = thread ? new SqliteWorkerClient(engineOpts) : new SqliteEngine(engineOpts);
  }

  migrate: Store['migrate'] = () => this.engine.migrate();
  ping: Store['ping'] = () => this.engine.ping();
  close: Store['close'] = () => this.engine.close();
  commit = (batch: CommitBatch): Promise<void> => this.engine.commit(batch);
  getConversation: Store['getConversation'] = (convId) => this.engine.getConversation(convId);
  listConversations: Store['listConversations'] = (opts) => this.engine.listConversations(opts);
  isTombstoned: Store['isTombstoned'] = (convId) => this.engine.isTombstoned(convId);
  readFrames: Store['readFrames'] = (convId, since, limit) => this.engine.readFrames(convId, since, limit);
  logHead: Store['logHead'] = (convId) => this.engine.logHead(convId);
  listOpenRuns: Store['listOpenRuns'] = () => this.engine.listOpenRuns();
  getRun: Store['getRun'] = (convId, inferenceId) => this.engine.getRun(convId, inferenceId);
  listRecentRuns: Store['listRecentRuns'] = (convId, limit) => this.engine.listRecentRuns(convId, limit);
  listOpenPauses: Store['listOpenPauses'] = (convId) => this.engine.listOpenPauses(convId);
  listQueue: Store['listQueue'] = (convId) => this.engine.listQueue(convId);
  listConversationsWithQueue: Store['listConversationsWithQueue'] = () => this.engine.listConversationsWithQueue();
  getIdempotency: Store['getIdempotency'] = (principal, key) => this.engine.getIdempotency(principal, key);
  loadProjection: Store['loadProjection'] = (convId) => this.engine.loadProjection(convId);
  saveTurnSnapshot: Store['saveTurnSnapshot'] = (s) => this.engine.saveTurnSnapshot(s);
  loadTurns: Store['loadTurns'] = (convId) => this.engine.loadTurns(convId);
  deleteConversation: Store['deleteConversation'] = (convId, atMs) => this.engine.deleteConversation(convId, atMs);
  expireIdempotency: Store['expireIdempotency'] = (beforeMs) => this.engine.expireIdempotency(beforeMs);
}

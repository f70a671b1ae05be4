import { Worker } from 'node:worker_threads';
import { STORE_CLOSED_MESSAGE, type SqliteEngineOptions } from './sqlite-engine';
import type { WorkerOpen, WorkerReply, WorkerRequest } from './sqlite-worker';
import { fromWireError, packFrames, transferList, unpackFrames, type PackedFrames } from './sqlite-wire';
import type { CommitBatch, Store, StoredFrame } from './store';

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
}

/**
 * The main thread's side of the database worker (sqlite-worker.ts): every `Store` call becomes
 * one message `{ id, op, args }`, its reply is matched by id. The worker handles messages one
 * at a time in the order sent, so the order of calls is the order of their effects (a read sent
 * after a commit resolved sees it; commits stay serial as the group committer issues them).
 *
 * The worker does not keep the process alive while idle (unref'd); it does while a call is
 * pending. If it dies (an uncaught error, a failed native load), every pending and later call
 * rejects and `ping()` answers false (/readyz goes unready); nothing was made visible that the
 * database did not commit, because a frame becomes visible only after its commit's reply.
 */
export class SqliteWorkerClient implements Store {
  readonly kind = 'sqlite' as const;
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private failure: Error | null = null;
  private closed = false;

  constructor(opts: SqliteEngineOptions) {
    if (opts.log?.onIndexFlush) throw new Error('SqliteStore: log.onIndexFlush (a function) cannot reach the worker thread; use thread: false');
    this.worker = takeWorker();
    this.worker.unref();
    this.worker.on('message', this.onMessage);
    this.worker.on('error', this.onError);
    this.worker.on('exit', this.onExit);
    const testEnv: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (k.startsWith('WEBCHAT_TEST_') && v !== undefined) testEnv[k] = v;
    // answered before any later call (the worker runs messages in order); an open error is
    // the answer of every later call
    this.call('open', [{ options: opts, testEnv } satisfies WorkerOpen]).catch(() => undefined);
  }

  private readonly onMessage = (m: WorkerReply): void => this.settle(m);
  private readonly onError = (err: Error): void => this.fail(new Error(`SqliteStore: the database worker thread failed: ${err.message}`, { cause: err }));
  private readonly onExit = (code: number): void => this.fail(new Error(`SqliteStore: the database worker thread exited (code ${code})`));

  private call<T>(op: string, args: unknown[], transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.closed) return Promise.reject(new Error(STORE_CLOSED_MESSAGE));
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    let pending!: Pending;
    const reply = new Promise<T>((resolve, reject) => {
      pending = { resolve: resolve as (v: unknown) => void, reject };
    });
    // throws (synchronously: DataCloneError) before anything is queued
    this.worker.postMessage({ id, op, args } satisfies WorkerRequest, transfer);
    this.pending.set(id, pending);
    if (this.pending.size === 1) this.worker.ref();
    return reply;
  }

  private settle(m: WorkerReply): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (this.pending.size === 0) this.worker.unref();
    if ('error' in m) p.reject(fromWireError(m.error));
    else p.resolve(m.value);
  }

  private fail(err: Error): void {
    if (!this.failure && !this.closed) this.failure = err;
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(this.closed ? new Error(STORE_CLOSED_MESSAGE) : err);
  }

  // ---- lifecycle ---------------------------------------------------------------------------

  migrate = (): Promise<void> => this.call('migrate', []);

  async ping(): Promise<boolean> {
    if (this.closed || this.failure) return false;
    try {
      return await this.call<boolean>('ping', []);
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    const clean = !this.failure && (await this.call('close', []).then(() => true, () => false));
    this.closed = true;
    // only our own listeners: removing the Worker's every listener stops its message port
    this.worker.off('message', this.onMessage);
    this.worker.off('error', this.onError);
    this.worker.off('exit', this.onExit);
    if (clean) releaseWorker(this.worker);
    else await this.worker.terminate();
  }

  // ---- writes ------------------------------------------------------------------------------

  async commit(batch: CommitBatch): Promise<void> {
    const { frames, ...rest } = batch;
    let packed = packFrames(frames);
    let sent: Promise<void>;
    try {
      sent = this.call('commit', [packed, rest], transferList(packed));
    } catch (err) {
      if (!(err instanceof Error && err.name === 'DataCloneError')) throw err;
      // a row carries a value structured clone refuses (a function, a class instance): the
      // engine stores such values as JSON anyway, so send their JSON form
      packed = packFrames(frames);
      sent = this.call('commit', [packed, JSON.parse(JSON.stringify(rest))], transferList(packed));
    }
    await sent;
  }

  saveTurnSnapshot: Store['saveTurnSnapshot'] = (s) => this.call('saveTurnSnapshot', [s]);
  deleteConversation: Store['deleteConversation'] = (convId, atMs) => this.call('deleteConversation', [convId, atMs]);
  expireIdempotency: Store['expireIdempotency'] = (beforeMs) => this.call('expireIdempotency', [beforeMs]);

  // ---- reads -------------------------------------------------------------------------------

  async readFrames(convId: string, since: number, limit: number): Promise<StoredFrame[]> {
    return unpackFrames(await this.call<PackedFrames>('readFrames', [convId, since, limit]));
  }

  getConversation: Store['getConversation'] = (convId) => this.call('getConversation', [convId]);
  listConversations: Store['listConversations'] = (opts) => this.call('listConversations', [opts]);
  isTombstoned: Store['isTombstoned'] = (convId) => this.call('isTombstoned', [convId]);
  logHead: Store['logHead'] = (convId) => this.call('logHead', [convId]);
  listOpenRuns: Store['listOpenRuns'] = () => this.call('listOpenRuns', []);
  getRun: Store['getRun'] = (convId, inferenceId) => this.call('getRun', [convId, inferenceId]);
  listRecentRuns: Store['listRecentRuns'] = (convId, limit) => this.call('listRecentRuns', [convId, limit]);
  listOpenPauses: Store['listOpenPauses'] = (convId) => this.call('listOpenPauses', [convId]);
  listQueue: Store['listQueue'] = (convId) => this.call('listQueue', [convId]);
  listConversationsWithQueue: Store['listConversationsWithQueue'] = () => this.call('listConversationsWithQueue', []);
  getIdempotency: Store['getIdempotency'] = (principal, key) => this.call('getIdempotency', [principal, key]);
  loadProjection: Store['loadProjection'] = (convId) => this.call('loadProjection', [convId]);
  loadTurns: Store['loadTurns'] = (convId) => this.call('loadTurns', [convId]);
}

/**
 * Workers whose store closed cleanly, kept (unref'd, so they never hold the process open) for
 * the next store of this process: starting one costs the TypeScript loader and the native
 * module again (≈ 0.1–1 s). A server opens one store; tests open hundreds.
 */
const idle: Worker[] = [];
const MAX_IDLE = 2;

function takeWorker(): Worker {
  const w = idle.pop();
  if (w) {
    w.off('error', dropIdle);
    w.off('exit', dropIdle);
    return w;
  }
  // execArgv []: the worker registers its own loader (sqlite-worker-entry.mjs), whatever the
  // parent runs under
  return new Worker(new URL('./sqlite-worker-entry.mjs', import.meta.url), { execArgv: [] });
}

function releaseWorker(w: Worker): void {
  if (idle.length >= MAX_IDLE) {
    void w.terminate();
    return;
  }
  w.unref();
  w.on('error', dropIdle);
  w.on('exit', dropIdle);
  idle.push(w);
}

function dropIdle(this: Worker): void {
  const i = idle.indexOf(this);
  if (i >= 0) idle.splice(i, 1);
}

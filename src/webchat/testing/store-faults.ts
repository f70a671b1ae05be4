import type { CommitBatch, Store, TurnSnapshot } from '../store/store';

/**
 * TEST-ONLY fault injection for the store. `createChatService` wraps its store in
 * `FaultInjectingStore` only when the environment sets `WEBCHAT_TEST_STORE_FAULTS=1`, which
 * production never does; tests (in the same process as the server) then switch
 * `storeFaults.failWrites` on and off to simulate a full disk: every write fails as SQLite's
 * does (`SQLITE_FULL`, "database or disk is full") while reads and the ping keep working.
 */
export const STORE_FAULTS_ENV = 'WEBCHAT_TEST_STORE_FAULTS';

export interface StoreFaults {
  /** While true, every write (commit, snapshot, delete, expiry) throws. */
  failWrites: boolean;
  /** Writes refused so far. */
  refused: number;
}

export const storeFaults: StoreFaults = { failWrites: false, refused: 0 };

export function storeFaultsEnabled(env: NodeJS.ProcessEnv): boolean {
  return env[STORE_FAULTS_ENV] === '1';
}

class DiskFullError extends Error {
  readonly code = 'SQLITE_FULL';
  constructor() {
    super('database or disk is full');
  }
}

export class FaultInjectingStore implements Store {
  constructor(private readonly inner: Store) {}

  get kind() {
    return this.inner.kind;
  }

  private refuse(): void {
    if (!storeFaults.failWrites) return;
    storeFaults.refused++;
    throw new DiskFullError();
  }

  migrate = () => this.inner.migrate();
  ping = () => this.inner.ping();
  close = () => this.inner.close();
  async commit(batch: CommitBatch): Promise<void> {
    this.refuse();
    return this.inner.commit(batch);
  }
  getConversation: Store['getConversation'] = (id) => this.inner.getConversation(id);
  listConversations: Store['listConversations'] = (o) => this.inner.listConversations(o);
  isTombstoned: Store['isTombstoned'] = (id) => this.inner.isTombstoned(id);
  readFrames: Store['readFrames'] = (id, since, limit) => this.inner.readFrames(id, since, limit);
  logHead: Store['logHead'] = (id) => this.inner.logHead(id);
  listOpenRuns: Store['listOpenRuns'] = () => this.inner.listOpenRuns();
  getRun: Store['getRun'] = (id, inf) => this.inner.getRun(id, inf);
  listRecentRuns: Store['listRecentRuns'] = (id, n) => this.inner.listRecentRuns(id, n);
  listOpenPauses: Store['listOpenPauses'] = (id) => this.inner.listOpenPauses(id);
  listQueue: Store['listQueue'] = (id) => this.inner.listQueue(id);
  listConversationsWithQueue: Store['listConversationsWithQueue'] = () => this.inner.listConversationsWithQueue();
  getIdempotency: Store['getIdempotency'] = (p, k) => this.inner.getIdempotency(p, k);
  loadProjection: Store['loadProjection'] = (id) => this.inner.loadProjection(id);
  async saveTurnSnapshot(s: TurnSnapshot): Promise<void> {
    this.refuse();
    return this.inner.saveTurnSnapshot(s);
  }
  loadTurns: Store['loadTurns'] = (id) => this.inner.loadTurns(id);
  async deleteConversation(convId: string, atMs: number): Promise<void> {
    this.refuse();
    return this.inner.deleteConversation(convId, atMs);
  }
  async expireIdempotency(beforeMs: number): Promise<number> {
    this.refuse();
    return this.inner.expireIdempotency(beforeMs);
  }
}

import { parentPort } from 'node:worker_threads';
import { SqliteEngine, type SqliteEngineOptions } from './sqlite-engine';
import type { CommitBatch, Store } from './store';
import { packFrames, toWireError, transferList, unpackFrames, type PackedFrames } from './sqlite-wire';

/**
 * The database worker thread: owns the process's SQLite connection (`SqliteEngine`) and runs
 * every store call `SqliteStore` (sqlite-store.ts) sends it, one at a time in arrival order, so
 * commits stay serial and a read sent after a commit sees it. Replies carry the request's id.
 * Started through sqlite-worker-entry.mjs (which registers the TypeScript loader).
 */

export interface WorkerRequest {
  id: number;
  op: string;
  args: unknown[];
}

export type WorkerReply = { id: number; value: unknown } | { id: number; error: ReturnType<typeof toWireError> };

/** The first message to a (new or reused) worker: which database to open, with which hooks. */
export interface WorkerOpen {
  options: SqliteEngineOptions;
  /** The parent's WEBCHAT_TEST_* variables as of the `SqliteStore`'s creation (test hooks). */
  testEnv: Record<string, string>;
}

const port = parentPort;
if (!port) throw new Error('sqlite-worker.ts runs only as a worker thread (see sqlite-store.ts)');

let engine: SqliteEngine | null = null;
let openError: unknown = new Error('sqlite worker: no database is open');

/** Opens the engine of the next store (a worker is reused after its store closed). */
function open(o: WorkerOpen): void {
  for (const k of Object.keys(process.env)) if (k.startsWith('WEBCHAT_TEST_')) delete process.env[k];
  Object.assign(process.env, o.testEnv);
  try {
    engine = new SqliteEngine(o.options);
    openError = null;
  } catch (err) {
    engine = null;
    openError = err; // e.g. the file cannot be opened: every call answers with it
  }
}

type Op = (e: SqliteEngine, args: unknown[]) => Promise<{ value: unknown; transfer?: ArrayBuffer[] }>;
const plain =
  (name: keyof Store): Op =>
  async (e, args) => ({ value: await (e[name] as (...a: unknown[]) => Promise<unknown>)(...args) });

const OPS: Record<string, Op> = {
  commit: async (e, [packed, rest]) => {
    await e.commit({ ...(rest as Omit<CommitBatch, 'frames'>), frames: unpackFrames(packed as PackedFrames) });
    return { value: undefined };
  },
  readFrames: async (e, [convId, since, limit]) => {
    const packed = packFrames(await e.readFrames(convId as string, since as number, limit as number));
    return { value: packed, transfer: transferList(packed) };
  },
};
for (const name of [
  'migrate', 'ping', 'close', 'getConversation', 'listConversations', 'isTombstoned', 'logHead', 'listOpenRuns', 'getRun',
  'listRecentRuns', 'listOpenPauses', 'listQueue', 'listConversationsWithQueue', 'getIdempotency', 'loadProjection',
  'saveTurnSnapshot', 'loadTurns', 'deleteConversation', 'expireIdempotency',
] as const) {
  OPS[name] = plain(name);
}

port.on('message', async (m: WorkerRequest) => {
  try {
    if (m.op === 'open') {
      open(m.args[0] as WorkerOpen);
      port.postMessage({ id: m.id, value: undefined } satisfies WorkerReply);
      return;
    }
    if (!engine) throw openError;
    const op = OPS[m.op];
    if (!op) throw new Error(`sqlite worker: unknown operation ${m.op}`);
    const { value, transfer } = await op(engine, m.args);
    if (m.op === 'close') {
      engine = null;
      openError = new Error('sqlite worker: no database is open');
    }
    port.postMessage({ id: m.id, value } satisfies WorkerReply, transfer ?? []);
  } catch (err) {
    port.postMessage({ id: m.id, error: toWireError(err) } satisfies WorkerReply);
  }
});

import type { RuntimeLogger } from './conversation';
import { ConversationManager } from './conversation-manager';
import { GroupCommitter } from './group-committer';
import { ProfileRegistry } from './profile-registry';
import { checkTools, resolveProfiles } from './profiles-file';
import { ToolCatalog } from './run-builder';
import { PgStore } from './store/pg-store';
import { SqliteStore } from './store/sqlite-store';
import type { Store } from './store/store';
import { FaultInjectingStore, storeFaultsEnabled } from './testing/store-faults';
import { Translator } from './translator';
import { noopMetrics, type WebchatMetrics } from './webchat-metrics';
import { WebchatService } from './webchat-service';

export interface ChatServiceOptions {
  /** SQLite file path or `:memory:` (ignored when `store` or `databaseUrl` is given). */
  dbPath?: string;
  /** PostgreSQL URL: use the PostgreSQL store instead of SQLite (ignored when `store` is given). */
  databaseUrl?: string | null;
  /** Run SQLite on its worker thread (default true; `--db-inline` sets false). */
  dbThread?: boolean;
  store?: Store;
  profiles?: ProfileRegistry;
  catalog?: ToolCatalog;
  translator?: Translator;
  metrics?: WebchatMetrics;
  queueDepth?: number;
  sendLimitBytes?: number;
  maxToolResultBytes?: number;
  evictIdleMs?: number;
  commitWindowMs?: number;
  /** Delta coalescing window in ms (default 0 = off): see `DeltaCoalescer`. */
  coalesceMs?: number;
  /** Called with store health changes (logging). */
  onStoreHealth?: (healthy: boolean, err?: unknown) => void;
  /** Profiles file (YAML/JSON); ignored when `profiles` is given. */
  profilesPath?: string | null;
  /** Alias of sendLimitBytes (the server's name). */
  wsSendBufferBytes?: number;
  /** Environment for ready profiles (default process.env). */
  env?: NodeJS.ProcessEnv;
  logger?: RuntimeLogger;
}

export const SERVICE_DEFAULTS = {
  queueDepth: 16,
  sendLimitBytes: 8 * 1024 * 1024,
  maxToolResultBytes: 64 * 1024,
  evictIdleMs: 300_000,
  commitWindowMs: 2,
};

/**
 * Wires the webchat runtime: store (migrated), group committer, profiles, conversation manager;
 * closes runs a previous process left open and drains stored queues before answering.
 */
export async function createChatService(o: ChatServiceOptions = {}): Promise<WebchatService> {
  const metrics = o.metrics ?? noopMetrics;
  const catalog = o.catalog ?? new ToolCatalog();
  let profiles = o.profiles;
  if (!profiles) {
    const r = resolveProfiles({ file: o.profilesPath ?? null, env: o.env ?? process.env });
    checkTools(r.profiles, catalog.names());
    profiles = new ProfileRegistry(r.profiles, r.defaultSlug);
  }
  const log = o.logger;
  const onHealth = o.onStoreHealth ?? ((healthy: boolean, err?: unknown) => {
    if (healthy) log?.info({}, 'store commits succeed again');
    else log?.warn({ err: err instanceof Error ? err.message : String(err) }, 'store commit failed; retrying (not ready)');
  });
  let store: Store =
    o.store ?? (o.databaseUrl ? new PgStore({ connectionString: o.databaseUrl }) : new SqliteStore({ path: o.dbPath ?? './data/webchat.db', thread: o.dbThread ?? true }));
  // test-only: a store whose writes a test can make fail (never set in production)
  if (storeFaultsEnabled(o.env ?? process.env)) store = new FaultInjectingStore(store);
  await store.migrate();
  const committer = new GroupCommitter(store, {
    windowMs: o.commitWindowMs ?? SERVICE_DEFAULTS.commitWindowMs,
    maxFrames: 2000,
    metrics,
    onHealth,
  });
  const manager = new ConversationManager({
    store,
    committer,
    metrics,
    translator: o.translator ?? new Translator(),
    catalog,
    logger: o.logger,
    limits: {
      queueDepth: o.queueDepth ?? SERVICE_DEFAULTS.queueDepth,
      sendLimitBytes: o.sendLimitBytes ?? o.wsSendBufferBytes ?? SERVICE_DEFAULTS.sendLimitBytes,
      maxToolResultBytes: o.maxToolResultBytes ?? SERVICE_DEFAULTS.maxToolResultBytes,
    },
    defaultRuntime: () => ({ profile: profiles!.default, overrides: null }),
    evictIdleMs: o.evictIdleMs ?? SERVICE_DEFAULTS.evictIdleMs,
    coalesceMs: o.coalesceMs ?? 0,
  });
  await manager.recover();
  manager.startSweeper();
  return new WebchatService(store, committer, manager, profiles);
}

import { createClient, createCluster, type RedisClientType, type RedisClusterType } from 'redis';

/**
 * One Redis connection for scale-out, standalone (`redis://`, `rediss://`) or Redis Cluster
 * (several URLs, or `cluster: true` with one seed URL), behind one small interface so the
 * lease manager, frame bus and command bus run unchanged on both. Commands go through
 * `sendCommand` with their first key, so the cluster client routes them by slot; node-redis
 * writes every command issued in the same tick in one socket write (automatic pipelining), so
 * `Promise.all` over a batch costs one round trip per node.
 *
 * The offline queue is off: while Redis is unreachable commands fail at once (callers retry with
 * backoff) instead of piling up. The socket reconnects forever with capped exponential backoff
 * and jitter. `ready` is what /readyz reports. Blocking reads (XREAD BLOCK) never run on a shared
 * connection: `duplicate()` opens a dedicated one.
 */

export class RedisConfigError extends Error {
  readonly code = 'invalid_redis_config';
  constructor(message: string) {
    super(message);
    this.name = 'RedisConfigError';
  }
}

export interface RedisTarget {
  readonly mode: 'standalone' | 'cluster';
  /** `redis://` or `rediss://` URLs; one for standalone, the seed nodes for a cluster. */
  readonly urls: readonly string[];
}

/**
 * `urls` as given on the command line (repeatable, each may be comma-separated). Several URLs,
 * or `cluster: true`, mean Redis Cluster.
 */
export function parseRedisTarget(urls: readonly string[], cluster = false): RedisTarget {
  const list = urls.flatMap((u) => u.split(',')).map((u) => u.trim()).filter((u) => u.length > 0);
  if (list.length === 0) throw new RedisConfigError('no Redis URL given');
  for (const u of list) {
    let parsed: URL;
    try {
      parsed = new URL(u);
    } catch {
      throw new RedisConfigError(`not a URL: ${JSON.stringify(u)}`);
    }
    if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
      throw new RedisConfigError(`a Redis URL starts with redis:// or rediss://: ${JSON.stringify(u)}`);
    }
    if (parsed.hostname === '') throw new RedisConfigError(`a Redis URL needs a host: ${JSON.stringify(u)}`);
  }
  const tls = new Set(list.map((u) => u.startsWith('rediss:')));
  if (tls.size > 1) throw new RedisConfigError('the Redis URLs mix redis:// and rediss://');
  return { mode: cluster || list.length > 1 ? 'cluster' : 'standalone', urls: list };
}

export interface RedisConnectionOptions {
  /** First reconnect delay (ms, default 50); doubles per attempt up to `reconnectMaxMs`. */
  readonly reconnectBaseMs?: number;
  /** Largest reconnect delay (ms, default 2000). */
  readonly reconnectMaxMs?: number;
  /** Connect timeout per attempt (ms, default 5000). */
  readonly connectTimeoutMs?: number;
  /** Client name shown by CLIENT LIST (e.g. the instance id). */
  readonly name?: string;
}

/** Capped exponential backoff with jitter (half to full delay). Never gives up. */
export function reconnectDelay(retries: number, baseMs = 50, maxMs = 2000): number {
  const full = Math.min(maxMs, baseMs * 2 ** Math.min(retries, 20));
  return Math.round(full / 2 + (Math.random() * full) / 2);
}

export interface RedisConnection {
  readonly target: RedisTarget;
  /** True while every node this connection uses is connected and ready (for /readyz). */
  readonly ready: boolean;
  /** The last connection error seen (for logs and /readyz details), or null. */
  readonly lastError: Error | null;
  /** Sends one command; `key` routes it on a cluster (the first key the command touches). */
  command<T = unknown>(key: string | undefined, args: readonly string[]): Promise<T>;
  /** The hash slot of `key` (cluster only: CLUSTER KEYSLOT; 0 on standalone, one slot). */
  keySlot(key: string): Promise<number>;
  /** A new, dedicated connection with the same target and options (for blocking reads). */
  duplicate(name?: string): Promise<RedisConnection>;
  /** Graceful close (waits for replies in flight). */
  close(): Promise<void>;
  /** Immediate close: commands in flight (a blocked XREAD) reject. */
  destroy(): void;
}

type AnyClient = RedisClientType<any, any, any, any, any>;
type AnyCluster = RedisClusterType<any, any, any, any, any>;

export async function connectRedis(target: RedisTarget, options: RedisConnectionOptions = {}): Promise<RedisConnection> {
  const conn = target.mode === 'cluster' ? new ClusterConnection(target, options) : new StandaloneConnection(target, options);
  await conn.connect();
  return conn;
}

function socketOptions(options: RedisConnectionOptions) {
  const base = options.reconnectBaseMs ?? 50;
  const max = options.reconnectMaxMs ?? 2000;
  return {
    connectTimeout: options.connectTimeoutMs ?? 5000,
    reconnectStrategy: (retries: number) => reconnectDelay(retries, base, max),
  };
}

class StandaloneConnection implements RedisConnection {
  readonly #client: AnyClient;
  #lastError: Error | null = null;

  constructor(readonly target: RedisTarget, private readonly options: RedisConnectionOptions) {
    this.#client = createClient({
      url: target.urls[0],
      name: options.name,
      disableOfflineQueue: true,
      socket: socketOptions(options),
    }) as AnyClient;
    this.#client.on('error', (err: Error) => {
      this.#lastError = err;
    });
    this.#client.on('ready', () => {
      this.#lastError = null;
    });
  }

  async connect(): Promise<void> {
    await this.#client.connect();
  }

  get ready(): boolean {
    return this.#client.isReady;
  }

  get lastError(): Error | null {
    return this.#lastError;
  }

  command<T>(_key: string | undefined, args: readonly string[]): Promise<T> {
    return this.#client.sendCommand([...args]) as Promise<T>;
  }

  async keySlot(): Promise<number> {
    return 0;
  }

  duplicate(name?: string): Promise<RedisConnection> {
    return connectRedis(this.target, { ...this.options, name: name ?? this.options.name });
  }

  async close(): Promise<void> {
    if (this.#client.isOpen) await this.#client.close();
  }

  destroy(): void {
    if (this.#client.isOpen) this.#client.destroy();
  }
}

class ClusterConnection implements RedisConnection {
  readonly #cluster: AnyCluster;
  readonly #slots = new Map<string, number>();
  #lastError: Error | null = null;

  constructor(readonly target: RedisTarget, private readonly options: RedisConnectionOptions) {
    const first = new URL(target.urls[0]!);
    this.#cluster = createCluster({
      rootNodes: target.urls.map((url) => ({ url })),
      defaults: {
        name: options.name,
        username: first.username ? decodeURIComponent(first.username) : undefined,
        password: first.password ? decodeURIComponent(first.password) : undefined,
        disableOfflineQueue: true,
        socket: { ...socketOptions(options), ...(first.protocol === 'rediss:' ? { tls: true as const } : {}) },
      },
    }) as AnyCluster;
    this.#cluster.on('error', (err: Error) => {
      this.#lastError = err;
    });
    this.#cluster.on('node-error', (err: Error) => {
      this.#lastError = err;
    });
  }

  async connect(): Promise<void> {
    await this.#cluster.connect();
  }

  get ready(): boolean {
    if (!this.#cluster.isOpen) return false;
    const masters = this.#cluster.masters;
    return masters.length > 0 && masters.every((m) => m.client === undefined || (m.client as { isReady: boolean }).isReady);
  }

  get lastError(): Error | null {
    return this.#lastError;
  }

  command<T>(key: string | undefined, args: readonly string[]): Promise<T> {
    return this.#cluster.sendCommand(key, false, [...args]) as Promise<T>;
  }

  async keySlot(key: string): Promise<number> {
    // The slot depends only on the hash tag; cache by tag so each conversation costs one lookup.
    const open = key.indexOf('{');
    const close = open >= 0 ? key.indexOf('}', open + 1) : -1;
    const tag = close > open + 1 ? key.slice(open + 1, close) : key;
    const cached = this.#slots.get(tag);
    if (cached !== undefined) return cached;
    const slot = Number(await this.#cluster.sendCommand(key, true, ['CLUSTER', 'KEYSLOT', key]));
    if (this.#slots.size > 100_000) this.#slots.clear();
    this.#slots.set(tag, slot);
    return slot;
  }

  duplicate(name?: string): Promise<RedisConnection> {
    return connectRedis(this.target, { ...this.options, name: name ?? this.options.name });
  }

  async close(): Promise<void> {
    if (this.#cluster.isOpen) await this.#cluster.close();
  }

  destroy(): void {
    if (this.#cluster.isOpen) this.#cluster.destroy();
  }
}

import { performance } from 'node:perf_hooks';
import type { RedisConnection } from './redis-connection';
import type { RedisKeys } from './redis-keys';
import { RedisScript } from './redis-script';
import { isValidInstanceId } from './instance-id';

/**
 * Ownership leases with fencing tokens (runtime.md "Scale-out", Ownership).
 *
 * - acquire: in one Lua script (owner and fence keys share the conversation's hash tag), if the
 *   owner key is free: `INCR fence` (raised above `fenceFloor` when given: the runtime passes the
 *   last token the store accepted, so a Redis that lost its data cannot hand out a token the
 *   commit check would refuse), then `SET owner "<token>:<instanceId>" NX PX ttl`.
 * - renew: every held lease is renewed at a third of the TTL, compare-and-renew by value (the
 *   value carries the token, so a lease re-taken later never renews an older one).
 * - release: compare-and-delete.
 * - lost: emitted when a renewal is refused (the key expired or another owner holds it) or when
 *   the TTL passes without a successful renewal. The deadline counts from when the last
 *   successful renewal was *sent*, so it is never later than Redis's own expiry: the runtime
 *   stops appending and drops the conversation's state no later than a new owner can take over
 *   (and the fencing token refuses anything that still slips through).
 */

export const DEFAULT_LEASE_TTL_MS = 10_000;

export interface Lease {
  readonly convId: string;
  readonly instanceId: string;
  /** Fencing token: strictly increasing per conversation across all owners. */
  readonly token: number;
}

export interface LeaseOwner {
  readonly instanceId: string;
  readonly token: number;
  /** Milliseconds left on the lease as Redis reports it. */
  readonly ttlMs: number;
}

export type AcquireResult = { readonly acquired: true; readonly lease: Lease } | { readonly acquired: false; readonly owner: LeaseOwner | null };

export type LeaseLostReason = 'refused' | 'expired';
export type LeaseLostListener = (convId: string, reason: LeaseLostReason, lease: Lease) => void;

export interface LeaseManagerOptions {
  readonly keys: RedisKeys;
  readonly instanceId: string;
  /** Lease TTL in ms (default 10 000). */
  readonly ttlMs?: number;
  /** Renewal period in ms (default a third of the TTL). */
  readonly renewEveryMs?: number;
}

const ACQUIRE = new RedisScript(`
local current = redis.call('GET', KEYS[1])
if current then return {0, current, redis.call('PTTL', KEYS[1])} end
local token = redis.call('INCR', KEYS[2])
local floor = tonumber(ARGV[3])
if token <= floor then
  token = floor + 1
  redis.call('SET', KEYS[2], token)
end
local value = token .. ':' .. ARGV[1]
redis.call('SET', KEYS[1], value, 'NX', 'PX', ARGV[2])
return {1, value, tonumber(ARGV[2])}
`);

const RENEW = new RedisScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`);

const RELEASE = new RedisScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);

interface Held {
  readonly lease: Lease;
  readonly value: string;
  deadline: NodeJS.Timeout;
  renewing: boolean;
}

/** `<token>:<instanceId>` → its parts (the token is digits, so the first colon splits). */
export function parseOwnerValue(value: string): { instanceId: string; token: number } | null {
  const i = value.indexOf(':');
  if (i <= 0) return null;
  const token = Number(value.slice(0, i));
  return Number.isSafeInteger(token) ? { instanceId: value.slice(i + 1), token } : null;
}

export class LeaseManager {
  readonly instanceId: string;
  readonly ttlMs: number;
  readonly renewEveryMs: number;
  readonly #conn: RedisConnection;
  readonly #keys: RedisKeys;
  readonly #held = new Map<string, Held>();
  readonly #listeners = new Set<LeaseLostListener>();
  readonly #timer: NodeJS.Timeout;
  #closed = false;

  constructor(conn: RedisConnection, options: LeaseManagerOptions) {
    if (!isValidInstanceId(options.instanceId)) throw new RangeError(`invalid instance id ${JSON.stringify(options.instanceId)}`);
    this.#conn = conn;
    this.#keys = options.keys;
    this.instanceId = options.instanceId;
    this.ttlMs = options.ttlMs ?? DEFAULT_LEASE_TTL_MS;
    this.renewEveryMs = options.renewEveryMs ?? Math.max(1, Math.floor(this.ttlMs / 3));
    if (!(this.ttlMs > 0) || !(this.renewEveryMs > 0) || this.renewEveryMs >= this.ttlMs) {
      throw new RangeError(`lease TTL (${this.ttlMs} ms) must be positive and longer than the renewal period (${this.renewEveryMs} ms)`);
    }
    this.#timer = setInterval(() => this.#renewAll(), this.renewEveryMs);
    this.#timer.unref();
  }

  /** Registers a listener for lost leases; returns its removal. */
  onLost(listener: LeaseLostListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The lease this instance holds on `convId`, if any. */
  held(convId: string): Lease | undefined {
    return this.#held.get(convId)?.lease;
  }

  heldConversations(): string[] {
    return [...this.#held.keys()];
  }

  /**
   * Takes the lease when nobody holds it. `fenceFloor`: the largest token the store has
   * accepted for this conversation; the new token is above it even if Redis lost its counter.
   */
  async acquire(convId: string, options: { fenceFloor?: number } = {}): Promise<AcquireResult> {
    if (this.#closed) throw new Error('lease manager closed');
    const mine = this.#held.get(convId);
    if (mine) return { acquired: true, lease: mine.lease };
    const sentAt = performance.now();
    const reply = await ACQUIRE.run<[number, string, number]>(this.#conn, [this.#keys.owner(convId), this.#keys.fence(convId)], [
      this.instanceId,
      String(this.ttlMs),
      String(options.fenceFloor ?? 0),
    ]);
    const [ok, value, ttl] = reply;
    const parsed = parseOwnerValue(value);
    if (ok !== 1) return { acquired: false, owner: parsed ? { ...parsed, ttlMs: Number(ttl) } : null };
    if (!parsed) throw new Error(`unexpected lease value ${JSON.stringify(value)}`);
    const already = this.#held.get(convId);
    if (already) return { acquired: true, lease: already.lease }; // a concurrent acquire won the local race
    const lease: Lease = { convId, instanceId: this.instanceId, token: parsed.token };
    this.#held.set(convId, { lease, value, deadline: this.#deadline(convId, sentAt), renewing: false });
    if (this.#closed) void this.release(convId);
    return { acquired: true, lease };
  }

  /** Gives the lease up (compare-and-delete). False when it was not ours any more. */
  async release(convId: string): Promise<boolean> {
    const held = this.#held.get(convId);
    if (!held) return false;
    this.#forget(convId, held);
    const n = await RELEASE.run<number>(this.#conn, [this.#keys.owner(convId)], [held.value]);
    return Number(n) === 1;
  }

  /** Who holds the lease on `convId` right now, as Redis says. */
  async owner(convId: string): Promise<LeaseOwner | null> {
    const key = this.#keys.owner(convId);
    const [value, ttl] = await Promise.all([this.#conn.command<string | null>(key, ['GET', key]), this.#conn.command<number>(key, ['PTTL', key])]);
    const parsed = value === null ? null : parseOwnerValue(value);
    return parsed ? { ...parsed, ttlMs: Number(ttl) } : null;
  }

  /** Stops renewing; with `release` (default true) gives every held lease up. No `lost` events. */
  async close(options: { release?: boolean } = {}): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    const all = [...this.#held.keys()];
    if (options.release ?? true) await Promise.allSettled(all.map((c) => this.release(c)));
    for (const [c, h] of this.#held) this.#forget(c, h);
  }

  #deadline(convId: string, sentAt: number): NodeJS.Timeout {
    const t = setTimeout(() => this.#lose(convId, 'expired'), Math.max(0, sentAt + this.ttlMs - performance.now()));
    t.unref();
    return t;
  }

  #forget(convId: string, held: Held): void {
    clearTimeout(held.deadline);
    if (this.#held.get(convId) === held) this.#held.delete(convId);
  }

  #lose(convId: string, reason: LeaseLostReason): void {
    const held = this.#held.get(convId);
    if (!held) return;
    this.#forget(convId, held);
    if (reason === 'expired') {
      // Best effort: if Redis still has it (a renewal was merely slow), free it for the next owner.
      RELEASE.run(this.#conn, [this.#keys.owner(convId)], [held.value]).catch(() => {});
    }
    for (const l of this.#listeners) {
      try {
        l(convId, reason, held.lease);
      } catch {
        // a listener's failure must not stop the others
      }
    }
  }

  #renewAll(): void {
    for (const [convId, held] of this.#held) {
      if (held.renewing) continue;
      held.renewing = true;
      const sentAt = performance.now();
      RENEW.run<number>(this.#conn, [this.#keys.owner(convId)], [held.value, String(this.ttlMs)])
        .then((n) => {
          if (this.#held.get(convId) !== held) return;
          if (Number(n) === 1) {
            clearTimeout(held.deadline);
            held.deadline = this.#deadline(convId, sentAt);
          } else {
            this.#lose(convId, 'refused');
          }
        })
        .catch(() => {
          // Redis unreachable: keep trying at the next period; the deadline declares it lost.
        })
        .finally(() => {
          held.renewing = false;
        });
    }
  }
}

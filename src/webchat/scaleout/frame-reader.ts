import { decodeEntry, splitXRead, type DeliveredFrame, type LogEntry, type RawEntry } from './frame-bus';
import { reconnectDelay, type RedisConnection } from './redis-connection';
import type { RedisKeys } from './redis-keys';
import { isValidInstanceId } from './instance-id';

/**
 * The one frame reader of an instance (runtime.md "Scale-out", Fan-out): it reads the committed
 * frames of every conversation that has local subscribers and hands them over in seq order,
 * with no gap and no duplicate, never opening a connection per conversation or per socket.
 *
 * Standalone Redis: one dedicated connection runs `XREAD COUNT n BLOCK t STREAMS k1 … kn wake
 * id1 … idn wakeId`. Subscribing while it blocks XADDs to this instance's wake stream, which is
 * one of the streams the XREAD names, so it returns at once. That is race-free (the XREAD asks
 * for wake entries after the last one it saw, so a wake written just before the XREAD arrives
 * counts too) and costs nothing while idle; the block timeout is only a safety net.
 *
 * Redis Cluster: XREAD may only name keys of one slot, and every conversation is its own slot
 * (its hash tag). A blocking XREAD per slot would be a connection per conversation, so the
 * cluster reader polls instead: each cycle sends one non-blocking XREAD per slot group, all in
 * the same tick (node-redis pipelines them: one round trip per master node), and when nothing
 * came back it sleeps `pollMs` (default 10 ms; a subscribe wakes it). Cost: one XREAD per
 * watched conversation per `pollMs` while idle.
 *
 * Gaps: each subscription keeps the last delivered seq. An entry whose seq is not the next one
 * (Redis restarted, entries trimmed, an XADD that failed) makes the reader ask `fillGap` (the
 * store) for the missing frames and deliver them first; an entry at or below the last seq is a
 * duplicate and is skipped. A new subscription, and every subscription after a Redis error,
 * resynchronizes: it reads the stream's last entry, fills from the store up to it (or, when the
 * stream is empty, everything the store has after the last seq) and continues after it.
 */

/** A frame as the store returns it when filling a gap. */
export interface StoredFrame {
  readonly seq: number;
  readonly json: string;
  readonly streamId?: string | null;
}

/** Frames with `afterSeq < seq <= uptoSeq` (`uptoSeq` null: every committed frame after `afterSeq`), ascending. */
export type GapFiller = (convId: string, afterSeq: number, uptoSeq: number | null) => Promise<readonly StoredFrame[]>;

/** Receives each conversation's frames in seq order. Awaited: the reader delivers nothing else meanwhile. */
export type FrameSink = (convId: string, frames: readonly DeliveredFrame[]) => void | Promise<void>;

export class FrameGapError extends Error {
  readonly code = 'frame_gap_unfilled';
  constructor(readonly convId: string, readonly afterSeq: number, readonly uptoSeq: number, readonly gotUpTo: number) {
    super(`the store returned frames up to seq ${gotUpTo} of ${afterSeq + 1}..${uptoSeq} for conversation ${convId}`);
    this.name = 'FrameGapError';
  }
}

export interface FrameReaderOptions {
  readonly keys: RedisKeys;
  readonly instanceId: string;
  readonly deliver: FrameSink;
  readonly fillGap: GapFiller;
  /** Standalone: XREAD BLOCK timeout in ms (default 5000; a safety net, subscribes wake the read). */
  readonly blockMs?: number;
  /** Cluster: idle poll period in ms (default 10). */
  readonly pollMs?: number;
  /** Entries per stream per read (default 1000). */
  readonly count?: number;
  /** Errors the reader recovered from (Redis unreachable, store failing a gap fill, a sink that threw). */
  readonly onError?: (err: unknown) => void;
}

export interface FrameReaderStats {
  delivered: number;
  duplicatesSkipped: number;
  gapFills: number;
  filledFrames: number;
  resyncs: number;
  errors: number;
  /** Now minus the time in the id of the last entry delivered from Redis (ms). */
  lagMs: number;
}

interface Subscription {
  readonly convId: string;
  readonly key: string;
  lastSeq: number;
  /** Entry id to read after; null until resolved (new, or after an error). */
  cursor: string | null;
  /** Earliest time (Date.now) to retry a failed resolution. */
  retryAt: number;
  failures: number;
  slot: number | null;
}

export class FrameReader {
  readonly stats: FrameReaderStats = { delivered: 0, duplicatesSkipped: 0, gapFills: 0, filledFrames: 0, resyncs: 0, errors: 0, lagMs: 0 };
  readonly #conn: RedisConnection;
  readonly #blocking: RedisConnection | null;
  readonly #opts: FrameReaderOptions;
  readonly #wakeKey: string;
  readonly #subs = new Map<string, Subscription>();
  #wakeId: string | null = null;
  #blockedNow = false;
  #stopped = false;
  #wakeLocal: (() => void) | null = null;
  #loop: Promise<void> = Promise.resolve();

  private constructor(conn: RedisConnection, blocking: RedisConnection | null, options: FrameReaderOptions) {
    this.#conn = conn;
    this.#blocking = blocking;
    this.#opts = options;
    this.#wakeKey = options.keys.wake(options.instanceId);
  }

  /** Starts the reader; on standalone Redis it opens its one dedicated blocking connection. */
  static async start(conn: RedisConnection, options: FrameReaderOptions): Promise<FrameReader> {
    if (!isValidInstanceId(options.instanceId)) throw new RangeError(`invalid instance id ${JSON.stringify(options.instanceId)}`);
    const blocking = conn.target.mode === 'standalone' ? await conn.duplicate(`${options.instanceId}:frames`) : null;
    const reader = new FrameReader(conn, blocking, options);
    reader.#loop = reader.#run();
    return reader;
  }

  /**
   * Starts delivering `convId`'s frames after `afterSeq` (the last seq the caller already has).
   * Subscribing again replaces the subscription (and its position).
   */
  subscribe(convId: string, afterSeq: number): void {
    if (this.#stopped) throw new Error('frame reader closed');
    const key = this.#opts.keys.log(convId);
    this.#subs.set(convId, { convId, key, lastSeq: afterSeq, cursor: null, retryAt: 0, failures: 0, slot: null });
    this.#wake();
  }

  /** Stops delivering `convId`'s frames (an in-flight read's entries for it are dropped). */
  unsubscribe(convId: string): void {
    this.#subs.delete(convId);
  }

  isSubscribed(convId: string): boolean {
    return this.#subs.has(convId);
  }

  /** The last seq delivered for `convId` (or the one it subscribed after). */
  lastSeq(convId: string): number | undefined {
    return this.#subs.get(convId)?.lastSeq;
  }

  /** Both connections the reader uses are up (for /readyz). */
  get ready(): boolean {
    return this.#conn.ready && (this.#blocking?.ready ?? true);
  }

  async close(): Promise<void> {
    this.#stopped = true;
    this.#wakeLocal?.();
    this.#blocking?.destroy();
    await this.#loop;
  }

  #wake(): void {
    this.#wakeLocal?.();
    if (this.#blockedNow) {
      const k = this.#wakeKey;
      void Promise.all([this.#conn.command(k, ['XADD', k, 'MAXLEN', '~', '16', '*', 'w', '1']), this.#conn.command(k, ['PEXPIRE', k, '3600000'])]).catch(() => {
        // Redis unreachable: the blocked read fails too, and the loop resynchronizes.
      });
    }
  }

  #report(err: unknown): void {
    this.stats.errors++;
    try {
      this.#opts.onError?.(err);
    } catch {
      // the reporter's failure must not stop the reader
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.#wakeLocal = null;
        resolve();
      };
      const t = setTimeout(done, ms);
      this.#wakeLocal = done;
    });
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (!this.#stopped) {
      try {
        await this.#resolvePending();
        if (this.#stopped) break;
        const ready = [...this.#subs.values()].filter((s) => s.cursor !== null);
        const waiting = [...this.#subs.values()].filter((s) => s.cursor === null);
        const untilRetry = waiting.length > 0 ? Math.max(1, waiting.reduce((m, s) => Math.min(m, s.retryAt), Infinity) - Date.now()) : Infinity;
        if (ready.length === 0) {
          await this.#sleep(Math.min(untilRetry, 60_000));
          continue;
        }
        const got = this.#blocking ? await this.#readBlocking(this.#blocking, ready, untilRetry) : await this.#readPolling(ready, untilRetry);
        for (const sub of ready) {
          const entries = got.get(sub.key);
          if (entries && entries.length > 0) await this.#process(sub, entries);
        }
        failures = 0;
      } catch (err) {
        if (this.#stopped) break;
        failures++;
        this.#report(err);
        // Redis failed (restart, network): every subscription resumes from its last delivered seq.
        for (const s of this.#subs.values()) {
          s.cursor = null;
          s.retryAt = 0;
        }
        this.#wakeId = null;
        await this.#sleep(reconnectDelay(failures, 20, 1000));
      }
    }
  }

  /** Resolves every new (or failed, once its retry time came) subscription, until none is left fresh. */
  async #resolvePending(): Promise<void> {
    if (this.#blocking && this.#wakeId === null) this.#wakeId = (await this.#tail(this.#wakeKey))?.[0] ?? '0-0';
    for (;;) {
      const now = Date.now();
      const due = [...this.#subs.values()].filter((s) => s.cursor === null && s.retryAt <= now);
      if (due.length === 0 || this.#stopped) return;
      for (const sub of due) {
        try {
          await this.#resolve(sub);
        } catch (err) {
          if (this.#subs.get(sub.convId) !== sub) continue;
          sub.failures++;
          sub.retryAt = Date.now() + reconnectDelay(sub.failures, 50, 2000);
          this.#report(err);
        }
      }
    }
  }

  async #tail(key: string): Promise<RawEntry | undefined> {
    const raw = await this.#conn.command<RawEntry[]>(key, ['XREVRANGE', key, '+', '-', 'COUNT', '1']);
    return raw[0];
  }

  async #resolve(sub: Subscription): Promise<void> {
    this.stats.resyncs++;
    if (this.#conn.target.mode === 'cluster' && sub.slot === null) sub.slot = await this.#conn.keySlot(sub.key);
    const tail = await this.#tail(sub.key);
    let tailEntry: LogEntry | null = null;
    if (tail) {
      try {
        tailEntry = decodeEntry(tail);
      } catch {
        tailEntry = null;
      }
    }
    if (this.#subs.get(sub.convId) !== sub) return;
    if (tailEntry) {
      if (tailEntry.seq > sub.lastSeq) await this.#fill(sub, tailEntry.seq);
    } else {
      await this.#fill(sub, null);
    }
    if (this.#subs.get(sub.convId) !== sub) return;
    sub.cursor = tail ? tail[0] : '0-0';
    sub.failures = 0;
  }

  async #fill(sub: Subscription, uptoSeq: number | null): Promise<void> {
    const afterSeq = sub.lastSeq;
    const frames = await this.#opts.fillGap(sub.convId, afterSeq, uptoSeq);
    if (this.#subs.get(sub.convId) !== sub) return;
    const out: DeliveredFrame[] = [];
    let next = afterSeq + 1;
    for (const f of frames) {
      if (f.seq < next) continue;
      if (f.seq !== next || (uptoSeq !== null && f.seq > uptoSeq)) break;
      out.push({ convId: sub.convId, seq: f.seq, streamId: f.streamId ?? null, json: f.json });
      next++;
    }
    if (uptoSeq !== null && next <= uptoSeq) throw new FrameGapError(sub.convId, afterSeq, uptoSeq, next - 1);
    if (out.length === 0) return;
    this.stats.gapFills++;
    this.stats.filledFrames += out.length;
    await this.#deliver(sub, out);
  }

  async #deliver(sub: Subscription, frames: DeliveredFrame[]): Promise<void> {
    try {
      await this.#opts.deliver(sub.convId, frames);
    } catch (err) {
      this.#report(err);
    }
    sub.lastSeq = frames[frames.length - 1]!.seq;
    this.stats.delivered += frames.length;
  }

  async #process(sub: Subscription, entries: RawEntry[]): Promise<void> {
    if (this.#subs.get(sub.convId) !== sub) return;
    try {
      let batch: DeliveredFrame[] = [];
      let lastId = sub.cursor!;
      for (const raw of entries) {
        let entry: LogEntry;
        try {
          entry = decodeEntry(raw);
        } catch (err) {
          this.#report(err); // a foreign entry: skipped; if it hid a frame, the next seq shows the gap
          lastId = raw[0];
          continue;
        }
        const expected = sub.lastSeq + batch.length + 1;
        if (entry.seq < expected) {
          this.stats.duplicatesSkipped++;
          lastId = entry.id;
          continue;
        }
        if (entry.seq > expected) {
          if (batch.length > 0) await this.#deliver(sub, batch);
          batch = [];
          sub.cursor = lastId;
          await this.#fill(sub, entry.seq - 1);
          if (this.#subs.get(sub.convId) !== sub) return;
        }
        batch.push({ convId: sub.convId, seq: entry.seq, streamId: entry.id, json: entry.json });
        lastId = entry.id;
      }
      if (batch.length > 0) {
        await this.#deliver(sub, batch);
        this.stats.lagMs = Math.max(0, Date.now() - Number(lastId.split('-')[0]));
      }
      if (this.#subs.get(sub.convId) === sub) sub.cursor = lastId;
    } catch (err) {
      // The store could not fill a gap: resynchronize this conversation later (nothing after the gap was delivered).
      if (this.#subs.get(sub.convId) !== sub) return;
      this.#report(err);
      sub.cursor = null;
      sub.failures++;
      sub.retryAt = Date.now() + reconnectDelay(sub.failures, 50, 2000);
    }
  }

  async #readBlocking(blocking: RedisConnection, ready: Subscription[], untilRetry: number): Promise<Map<string, RawEntry[]>> {
    const block = Math.max(1, Math.min(this.#opts.blockMs ?? 5000, untilRetry));
    const keys = ready.map((s) => s.key);
    const ids = ready.map((s) => s.cursor!);
    const args = ['XREAD', 'COUNT', String(this.#opts.count ?? 1000), 'BLOCK', String(block), 'STREAMS', ...keys, this.#wakeKey, ...ids, this.#wakeId ?? '0-0'];
    this.#blockedNow = true;
    let reply: unknown;
    try {
      reply = await blocking.command(undefined, args);
    } finally {
      this.#blockedNow = false;
    }
    const got = splitXRead(reply);
    const wakes = got.get(this.#wakeKey);
    if (wakes && wakes.length > 0) this.#wakeId = wakes[wakes.length - 1]![0];
    got.delete(this.#wakeKey);
    return got;
  }

  async #readPolling(ready: Subscription[], untilRetry: number): Promise<Map<string, RawEntry[]>> {
    const groups = new Map<number, Subscription[]>();
    for (const s of ready) {
      const g = groups.get(s.slot ?? 0);
      if (g) g.push(s);
      else groups.set(s.slot ?? 0, [s]);
    }
    const count = String(this.#opts.count ?? 1000);
    const replies = await Promise.all(
      [...groups.values()].map((g) =>
        this.#conn.command(g[0]!.key, ['XREAD', 'COUNT', count, 'STREAMS', ...g.map((s) => s.key), ...g.map((s) => s.cursor!)]),
      ),
    );
    const got = new Map<string, RawEntry[]>();
    for (const r of replies) for (const [k, v] of splitXRead(r)) got.set(k, v);
    if (got.size === 0) await this.#sleep(Math.max(1, Math.min(this.#opts.pollMs ?? 10, untilRetry)));
    return got;
  }
}

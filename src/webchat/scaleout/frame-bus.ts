import type { RedisConnection } from './redis-connection';
import type { RedisKeys } from './redis-keys';

/**
 * Committed frames on Redis Streams (runtime.md "Scale-out", Fan-out): the entry format, the
 * publisher, and the reply parsing shared with the reader (frame-reader.ts).
 *
 * Each committed frame becomes one entry `XADD <prefix>{<convId>}:log MAXLEN ~ <N> * seq <seq>
 * json <envelope>`; the entry id is the frame's `stream_id`. The envelope is stored as the
 * committer serialized it (with `stream_id` null: the id exists only once the entry does), so a
 * reader sets `stream_id` from the entry id when it forwards the frame.
 */

export const DEFAULT_LOG_MAXLEN = 10_000;

/** A committed frame handed to the publisher. */
export interface CommittedFrame {
  readonly convId: string;
  readonly seq: number;
  /** The serialized envelope. */
  readonly json: string;
}

/** A frame as a reader delivers it: from a stream entry, or from the store when filling a gap. */
export interface DeliveredFrame {
  readonly convId: string;
  readonly seq: number;
  /** The entry id; for a frame filled from the store, whatever the store kept (or null). */
  readonly streamId: string | null;
  readonly json: string;
}

export interface FramePublisherOptions {
  readonly keys: RedisKeys;
  /** Approximate bound on each conversation's stream (`MAXLEN ~`), default 10 000 entries. */
  readonly maxLen?: number;
}

export class FramePublisher {
  readonly #conn: RedisConnection;
  readonly #keys: RedisKeys;
  readonly #maxLen: string;

  constructor(conn: RedisConnection, options: FramePublisherOptions) {
    this.#conn = conn;
    this.#keys = options.keys;
    const maxLen = options.maxLen ?? DEFAULT_LOG_MAXLEN;
    if (!Number.isSafeInteger(maxLen) || maxLen < 1) throw new RangeError(`maxLen must be a positive integer, got ${maxLen}`);
    this.#maxLen = String(maxLen);
  }

  /**
   * Appends one committed batch (frames of any number of conversations, each conversation's in
   * seq order) and returns each frame's entry id, in the batch's order. All XADDs are issued in
   * the same tick, so node-redis writes them in one socket write per node (one round trip); on
   * one connection Redis runs them in that order, so each conversation's entries keep their
   * order. Rejects if any XADD fails (Redis down): the frames stay committed in the store, and
   * readers fill the hole from there when they next see the conversation's stream. A reader only
   * sees a hole when a later entry arrives (or when its own connection failed and it
   * resynchronized), so the caller should publish the failed frames again once Redis is back:
   * readers skip what they already have (by seq), so a late or repeated entry is harmless.
   */
  publish(batch: readonly CommittedFrame[]): Promise<string[]> {
    return Promise.all(
      batch.map((f) => {
        const key = this.#keys.log(f.convId);
        return this.#conn.command<string>(key, ['XADD', key, 'MAXLEN', '~', this.#maxLen, '*', 'seq', String(f.seq), 'json', f.json]);
      }),
    );
  }
}

/** One stream entry decoded: `[id, [field, value, …]]` with fields `seq` and `json`. */
export interface LogEntry {
  readonly id: string;
  readonly seq: number;
  readonly json: string;
}

export class FrameEntryError extends Error {
  readonly code = 'invalid_frame_entry';
  constructor(message: string) {
    super(message);
    this.name = 'FrameEntryError';
  }
}

export type RawEntry = [string, string[] | null];

export function decodeEntry(raw: RawEntry): LogEntry {
  const [id, fields] = raw;
  let seq: number | undefined;
  let json: string | undefined;
  for (let i = 0; fields && i + 1 < fields.length; i += 2) {
    if (fields[i] === 'seq') seq = Number(fields[i + 1]);
    else if (fields[i] === 'json') json = fields[i + 1];
  }
  if (seq === undefined || !Number.isSafeInteger(seq) || json === undefined) throw new FrameEntryError(`stream entry ${id} has no valid seq/json`);
  return { id, seq, json };
}

/** XREAD's RESP2 reply: null on timeout, else `[[key, [entry, …]], …]`; entries left raw. */
export function splitXRead(reply: unknown): Map<string, RawEntry[]> {
  const out = new Map<string, RawEntry[]>();
  if (reply === null || reply === undefined) return out;
  for (const [key, entries] of reply as [string, RawEntry[]][]) out.set(key, entries);
  return out;
}

import { NotAWebchatDatabaseError } from './sqlite-migrations';
import { SeqConflictError } from './sqlite-log';
import { StoreCommitError } from './sqlite-engine';
import { SchemaTooNewError, type StoredFrame } from './store';

/**
 * What crosses the thread boundary between `SqliteStore` (main thread) and its engine on the
 * worker thread (sqlite-worker.ts), and how it is packed.
 *
 * Frames travel packed: all their strings concatenated into ONE string with a length table,
 * their numbers in one Float64Array (transferred, not copied). Structured clone then copies one
 * flat string and two buffers per batch instead of walking thousands of 7-field objects (and
 * writing each field's name once per frame). The receiving side slices the string back into
 * the exact same strings, so frames stay byte-identical.
 *
 * Errors travel as their class name, message, stack and own fields (`code`, `part`, `item` …)
 * and are revived as instances of the same class (`instanceof StoreCommitError`,
 * `SchemaTooNewError` … keep working; `code` and `message` are identical).
 */

const STR_FIELDS = 5; // convId, epoch, type, entityId, json
const NUM_FIELDS = 2; // seq, createdAtMs

export interface PackedFrames {
  text: string;
  lens: Uint32Array;
  nums: Float64Array;
}

export function packFrames(frames: readonly StoredFrame[]): PackedFrames {
  const n = frames.length;
  const lens = new Uint32Array(n * STR_FIELDS);
  const nums = new Float64Array(n * NUM_FIELDS);
  const parts: string[] = new Array<string>(n * STR_FIELDS);
  for (let i = 0; i < n; i++) {
    const f = frames[i]!;
    const s = i * STR_FIELDS;
    parts[s] = f.convId;
    parts[s + 1] = f.epoch;
    parts[s + 2] = f.type;
    parts[s + 3] = f.entityId;
    parts[s + 4] = f.json;
    for (let k = 0; k < STR_FIELDS; k++) lens[s + k] = parts[s + k]!.length;
    nums[i * NUM_FIELDS] = f.seq;
    nums[i * NUM_FIELDS + 1] = f.createdAtMs;
  }
  return { text: parts.join(''), lens, nums };
}

export function unpackFrames(p: PackedFrames): StoredFrame[] {
  const n = p.nums.length / NUM_FIELDS;
  const out: StoredFrame[] = new Array<StoredFrame>(n);
  let at = 0;
  const next = (i: number): string => {
    const s = p.text.slice(at, at + p.lens[i]!);
    at += p.lens[i]!;
    return s;
  };
  for (let i = 0; i < n; i++) {
    const s = i * STR_FIELDS;
    const convId = next(s);
    const epoch = next(s + 1);
    const type = next(s + 2);
    const entityId = next(s + 3);
    const json = next(s + 4);
    out[i] = { convId, seq: p.nums[i * NUM_FIELDS]!, epoch, type, entityId, json, createdAtMs: p.nums[i * NUM_FIELDS + 1]! };
  }
  return out;
}

/** The buffers of a packed batch, to transfer instead of copy. */
export function transferList(p: PackedFrames): ArrayBuffer[] {
  return [p.lens.buffer as ArrayBuffer, p.nums.buffer as ArrayBuffer];
}

// ---- errors ------------------------------------------------------------------------------

export interface WireError {
  cls: string;
  message: string;
  stack: string | undefined;
  fields: Record<string, string | number | boolean | null>;
  cause: WireError | null;
}

/** Classes revived as themselves; any other error comes back as an `Error` with the same fields. */
const CLASSES: Record<string, { prototype: Error }> = {
  StoreCommitError,
  SeqConflictError,
  SchemaTooNewError,
  NotAWebchatDatabaseError,
};

export function toWireError(err: unknown, depth = 0): WireError {
  if (!(err instanceof Error)) return { cls: 'Error', message: String(err), stack: undefined, fields: {}, cause: null };
  const fields: WireError['fields'] = {};
  for (const [k, v] of Object.entries(err)) {
    if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') fields[k] = v;
  }
  const cause = (err as Error & { cause?: unknown }).cause;
  return {
    cls: err.constructor?.name ?? 'Error',
    message: err.message,
    stack: err.stack,
    fields,
    cause: cause !== undefined && depth < 4 ? toWireError(cause, depth + 1) : null,
  };
}

export function fromWireError(w: WireError): Error {
  const proto = CLASSES[w.cls]?.prototype ?? Error.prototype;
  const err = Object.create(proto) as Error;
  Object.defineProperty(err, 'message', { value: w.message, writable: true, configurable: true });
  Object.defineProperty(err, 'stack', { value: w.stack, writable: true, configurable: true });
  for (const [k, v] of Object.entries(w.fields)) (err as unknown as Record<string, unknown>)[k] = v;
  if (w.cause) Object.defineProperty(err, 'cause', { value: fromWireError(w.cause), writable: true, configurable: true });
  return err;
}

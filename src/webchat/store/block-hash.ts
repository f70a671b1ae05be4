import { createHash } from 'node:crypto';

/**
 * Content hashing of Turn blocks (D11: blocks are stored once by content hash).
 *
 * The hash is sha256 over the block's canonical JSON: object keys sorted by UTF-16 code units
 * (the RFC 8785 order), no whitespace, and the same value rules as `JSON.stringify` (`toJSON`
 * honoured; `undefined`, functions and symbols dropped from objects and written as `null` in
 * arrays; non-finite numbers written as `null`). Two blocks with equal content therefore hash
 * equally whatever the insertion order of their keys, and the stored JSON is exactly the hashed
 * text.
 */

export const BLOCK_HASH_BYTES = 32;

export interface HashedBlock {
  /** sha256 digest of `json` (32 bytes). */
  hash: Buffer;
  /** The canonical JSON that was hashed. */
  json: string;
}

/** Canonical JSON of any JSON-able value (stable key order). Throws on cycles and bigint. */
export function canonicalJson(value: unknown): string {
  const out = write(value, new Set<object>());
  // Like JSON.stringify, a top-level undefined/function/symbol has no JSON text.
  if (out === undefined) throw new TypeError('canonicalJson: value has no JSON representation');
  return out;
}

/** The sha256 digest and canonical JSON of a block (or any JSON-able value). */
export function hashBlock(block: unknown): HashedBlock {
  const json = canonicalJson(block);
  return { hash: createHash('sha256').update(json, 'utf8').digest(), json };
}

/** Hex form of a block's content hash (for logs and tests). */
export function blockHashHex(block: unknown): string {
  return hashBlock(block).hash.toString('hex');
}

function write(input: unknown, stack: Set<object>): string | undefined {
  let value = input;
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON: () => unknown }).toJSON();
  }
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      throw new TypeError('canonicalJson: bigint is not JSON-able');
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    default:
      break;
  }
  if (value === null) return 'null';
  const obj = value as object;
  if (stack.has(obj)) throw new TypeError('canonicalJson: cyclic structure');
  stack.add(obj);
  try {
    if (Array.isArray(obj)) {
      const parts: string[] = [];
      for (const item of obj) parts.push(write(item, stack) ?? 'null');
      return `[${parts.join(',')}]`;
    }
    const record = obj as Record<string, unknown>;
    const parts: string[] = [];
    for (const key of Object.keys(record).sort()) {
      const v = write(record[key], stack);
      if (v !== undefined) parts.push(`${JSON.stringify(key)}:${v}`);
    }
    return `{${parts.join(',')}}`;
  } finally {
    stack.delete(obj);
  }
}

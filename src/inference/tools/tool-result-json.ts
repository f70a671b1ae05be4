/**
 * Turning a tool's return value into the JSON value the model and the log see, bounded in size
 * (D15: results over `maxToolResultBytes` are truncated with a marker before anyone sees them).
 */

export type SerializedToolResult =
  | { ok: true; value: unknown; truncated: boolean; bytes: number }
  | { ok: false; error: string };

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8');

/** UTF-8 byte length of a string (lone surrogates count as the 3-byte U+FFFD they encode to). */
export function utf8ByteLength(s: string): number {
  return encoder.encode(s).length;
}

/** The marker appended to a truncated result: `…[truncated: <kept> of <total> bytes]`. */
export function truncationMarker(keptBytes: number, totalBytes: number): string {
  return `…[truncated: ${keptBytes} of ${totalBytes} bytes]`;
}

/**
 * `JSON.stringify` that refuses what JSON cannot carry instead of silently dropping it:
 * functions and symbols anywhere (also as object properties) throw, as do BigInt and cycles
 * (natively). `undefined` at the top level becomes `null`; `undefined` object properties are
 * dropped and in arrays become `null`, as JSON.stringify does.
 */
export function strictJsonStringify(value: unknown): string {
  const json = JSON.stringify(value, (key, v: unknown) => {
    if (typeof v === 'function') throw new TypeError(`a function is not JSON${key ? ` (at key ${JSON.stringify(key)})` : ''}`);
    if (typeof v === 'symbol') throw new TypeError(`a symbol is not JSON${key ? ` (at key ${JSON.stringify(key)})` : ''}`);
    return v;
  });
  return json === undefined ? 'null' : json;
}

/**
 * Longest prefix of `text` whose UTF-8 encoding fits in `maxBytes`, cut on a code point
 * boundary (so a UTF-16 surrogate pair is never split).
 */
export function utf8Prefix(text: string, maxBytes: number): string {
  const bytes = encoder.encode(text);
  if (bytes.length <= maxBytes) return text;
  let end = Math.max(0, Math.floor(maxBytes));
  // Back up over UTF-8 continuation bytes (10xxxxxx) to the start of a code point.
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return decoder.decode(bytes.subarray(0, end));
}

/**
 * Serializes a tool's return value. Within `maxBytes` (UTF-8 bytes of the JSON text) the value
 * is the parsed JSON (a plain, detached JSON value: Dates become strings, etc.). Over it, the
 * value becomes a string: a prefix of the JSON text + the marker, at most `maxBytes` bytes in
 * all (unless `maxBytes` is smaller than the marker itself, in which case it is the marker alone).
 */
export function serializeToolResult(value: unknown, maxBytes: number): SerializedToolResult {
  let json: string;
  try {
    json = strictJsonStringify(value);
  } catch (err) {
    return { ok: false, error: `tool result is not JSON-serializable: ${err instanceof Error ? err.message : String(err)}` };
  }
  const total = utf8ByteLength(json);
  if (!(total > maxBytes)) return { ok: true, value: JSON.parse(json) as unknown, truncated: false, bytes: total };
  // Reserve room for the widest marker this total can produce, then fill the rest.
  const budget = Math.max(0, Math.floor(maxBytes) - utf8ByteLength(truncationMarker(total, total)));
  const prefix = utf8Prefix(json, budget);
  const kept = utf8ByteLength(prefix);
  const text = prefix + truncationMarker(kept, total);
  return { ok: true, value: text, truncated: true, bytes: utf8ByteLength(text) };
}

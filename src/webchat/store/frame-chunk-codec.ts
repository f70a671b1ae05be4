/**
 * The body of one log chunk: the frames one group commit appended to one conversation, with
 * contiguous seqs (the chunk row holds the first seq; frame i has seq first + i). Binary, so a
 * frame costs its envelope JSON plus a few bytes:
 *
 *   per frame: flags (1 byte) · zigzag varint of createdAtMs − the previous frame's (the first
 *   frame's: − 0) · [varint length + UTF-8 of type · varint length + UTF-8 of entityId, unless
 *   flag DERIVED] · varint length + UTF-8 of the envelope JSON.
 *
 * DERIVED (bit 0): the JSON starts with `{"sem":true,"event":{"type":<type>,"id":<entityId>,`
 * (every envelope the conversation log writes does), so type and entity id are read back from
 * the JSON instead of being stored twice. Anything else is stored explicitly, so any frame
 * round-trips byte-identically.
 */

export interface ChunkFrame {
  type: string;
  entityId: string;
  json: string;
  createdAtMs: number;
}

const DERIVED = 1;
const PREFIX = '{"sem":true,"event":{"type":';
const ID_KEY = ',"id":';

function envelopePrefix(type: string, entityId: string): string {
  return `${PREFIX}${JSON.stringify(type)}${ID_KEY}${JSON.stringify(entityId)},`;
}

function zigzag(n: number): number {
  return n >= 0 ? n * 2 : -n * 2 - 1;
}
function unzigzag(n: number): number {
  return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
}

/** Writes a non-negative integer (≤ 2^53) as a LEB128 varint; returns the new offset. */
function writeVarint(buf: Buffer, off: number, n: number): number {
  while (n >= 0x80) {
    buf[off++] = (n % 0x80) | 0x80;
    n = Math.floor(n / 0x80);
  }
  buf[off++] = n;
  return off;
}

export function encodeChunk(frames: readonly ChunkFrame[]): Buffer {
  let cap = 0;
  for (const f of frames) cap += 32 + 3 * (f.json.length + f.type.length + f.entityId.length); // UTF-8 ≤ 3 bytes per UTF-16 unit
  const buf = Buffer.allocUnsafe(cap);
  let off = 0;
  let prevMs = 0;
  for (const f of frames) {
    const derived = f.json.startsWith(envelopePrefix(f.type, f.entityId));
    buf[off++] = derived ? DERIVED : 0;
    off = writeVarint(buf, off, zigzag(f.createdAtMs - prevMs));
    prevMs = f.createdAtMs;
    if (!derived) {
      off = writeString(buf, off, f.type);
      off = writeString(buf, off, f.entityId);
    }
    off = writeString(buf, off, f.json);
  }
  return buf.subarray(0, off);
}

function writeString(buf: Buffer, off: number, s: string): number {
  // length first: reserve the largest varint for it, then move the bytes if it was shorter
  const maxBytes = s.length * 3;
  const lenBytes = maxBytes < 0x80 ? 1 : maxBytes < 0x4000 ? 2 : maxBytes < 0x200000 ? 3 : 5;
  const n = buf.write(s, off + lenBytes, 'utf8');
  const end = writeVarint(buf, off, n);
  if (end < off + lenBytes) buf.copy(buf, end, off + lenBytes, off + lenBytes + n);
  return end + n;
}

/** One frame of a chunk as decoded (seq = the chunk's first seq + its position). */
export interface DecodedFrame {
  seq: number;
  type: string;
  entityId: string;
  json: string;
  createdAtMs: number;
}

/** Thrown when a chunk body does not decode: the database is corrupt. */
export class CorruptChunkError extends Error {
  readonly code = 'corrupt_chunk';
}

/**
 * Decodes the frames of `body` with seq > `since`, calling `emit` for each until it returns
 * false; returns the number of frames in the chunk. Frames at or below `since` are skipped
 * without decoding their strings.
 */
export function decodeChunk(body: Uint8Array, firstSeq: number, since: number, emit: (f: DecodedFrame) => boolean): number {
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  let off = 0;
  let prevMs = 0;
  let seq = firstSeq;
  let count = 0;
  const varint = (): number => {
    let n = 0;
    let mul = 1;
    for (;;) {
      if (off >= buf.length) throw new CorruptChunkError(`log chunk at seq ${firstSeq}: truncated`);
      const b = buf[off++]!;
      n += (b & 0x7f) * mul;
      if (b < 0x80) return n;
      mul *= 0x80;
    }
  };
  const str = (skip: boolean): string => {
    const n = varint();
    const start = off;
    off += n;
    if (off > buf.length) throw new CorruptChunkError(`log chunk at seq ${firstSeq}: truncated`);
    return skip ? '' : buf.toString('utf8', start, off);
  };
  while (off < buf.length) {
    const flags = buf[off++]!;
    const createdAtMs = prevMs + unzigzag(varint());
    prevMs = createdAtMs;
    const skip = seq <= since;
    let type = '';
    let entityId = '';
    if (!(flags & DERIVED)) {
      type = str(skip);
      entityId = str(skip);
    }
    const json = str(skip);
    count++;
    if (!skip) {
      if (flags & DERIVED) [type, entityId] = derive(json, firstSeq);
      if (!emit({ seq, type, entityId, json, createdAtMs })) return count;
    }
    seq++;
  }
  return count;
}

/** type and entity id from an envelope that starts with PREFIX (checked at encode). */
function derive(json: string, firstSeq: number): [string, string] {
  const typeEnd = stringEnd(json, PREFIX.length);
  const idStart = typeEnd + ID_KEY.length;
  const idEnd = stringEnd(json, idStart);
  if (typeEnd < 0 || idEnd < 0 || json.slice(typeEnd, idStart) !== ID_KEY) {
    throw new CorruptChunkError(`log chunk at seq ${firstSeq}: envelope without type and id`);
  }
  return [jsonString(json, PREFIX.length, typeEnd), jsonString(json, idStart, idEnd)];
}

/** Index just past the JSON string literal starting at `start` (a `"`), or -1. */
function stringEnd(s: string, start: number): number {
  if (s.charCodeAt(start) !== 34) return -1;
  for (let i = start + 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 92) i++; // backslash: skip the escaped character
    else if (c === 34) return i + 1;
  }
  return -1;
}

function jsonString(s: string, start: number, end: number): string {
  const inner = s.slice(start + 1, end - 1);
  return inner.includes('\\') ? (JSON.parse(s.slice(start, end)) as string) : inner;
}

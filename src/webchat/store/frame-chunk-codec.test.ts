import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CorruptChunkError, decodeChunk, encodeChunk, type ChunkFrame, type DecodedFrame } from './frame-chunk-codec';

function decodeAll(body: Buffer, firstSeq: number, since = 0): DecodedFrame[] {
  const out: DecodedFrame[] = [];
  decodeChunk(body, firstSeq, since, (f) => (out.push(f), true));
  return out;
}

const envelope = (type: string, id: string, seq: number, delta: string) => JSON.stringify({ sem: true, event: { type, id, seq, stream_id: null, data: { delta } } });

describe('frame chunk codec', () => {
  it('stores an envelope once: type and entity id are read back from its JSON', () => {
    const json = envelope('llm.delta', 'msg-1', 7, 'hello');
    const body = encodeChunk([{ type: 'llm.delta', entityId: 'msg-1', json, createdAtMs: 1_764_000_000_000 }]);
    // flags + 6-byte time + 1-byte length + the JSON: nothing else
    expect(body.length).toBe(1 + 6 + 1 + Buffer.byteLength(json));
    expect(decodeAll(body, 7)).toEqual([{ seq: 7, type: 'llm.delta', entityId: 'msg-1', json, createdAtMs: 1_764_000_000_000 }]);
  });

  it('property: any frames round-trip byte-identically, `since` skips, `emit` stops', () => {
    const str = fc.string({ unit: 'grapheme', maxLength: 40 });
    const frameArb: fc.Arbitrary<ChunkFrame> = fc.record({
      type: str,
      entityId: str,
      createdAtMs: fc.integer({ min: -(2 ** 50), max: 2 ** 50 }),
      delta: fc.string({ unit: 'grapheme', maxLength: 400 }),
      shape: fc.constantFrom('envelope', 'other-envelope', 'any'),
    }).map(({ type, entityId, createdAtMs, delta, shape }) => ({
      type,
      entityId,
      createdAtMs,
      json: shape === 'envelope' ? envelope(type, entityId, 1, delta) : shape === 'other-envelope' ? envelope(`${type}x`, entityId, 1, delta) : delta,
    }));
    fc.assert(
      fc.property(fc.array(frameArb, { minLength: 1, maxLength: 30 }), fc.integer({ min: 1, max: 1e9 }), fc.nat(40), (frames, firstSeq, skip) => {
        const body = encodeChunk(frames);
        const want = frames.map((f, i) => ({ ...f, seq: firstSeq + i }));
        expect(decodeAll(body, firstSeq)).toEqual(want);
        expect(decodeAll(body, firstSeq, firstSeq + skip - 1)).toEqual(want.slice(skip));
        const two: DecodedFrame[] = [];
        expect(decodeChunk(body, firstSeq, 0, (f) => (two.push(f), two.length < 2))).toBe(Math.min(2, frames.length));
        expect(two).toEqual(want.slice(0, 2));
      }),
      { seed: 1109, numRuns: 300 },
    );
  });

  it('a truncated body is reported as corrupt, not misread', () => {
    const body = encodeChunk([{ type: 't', entityId: 'e', json: 'x'.repeat(300), createdAtMs: 5 }]);
    expect(() => decodeAll(body.subarray(0, body.length - 1), 1)).toThrow(CorruptChunkError);
  });
});

import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { serializeToolResult, truncationMarker, utf8ByteLength, utf8Prefix } from './tool-result-json';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

describe('tool result JSON', () => {
  it('utf8Prefix cuts on code point boundaries', () => {
    expect(utf8Prefix('a😀b', 1)).toBe('a');
    expect(utf8Prefix('a😀b', 4)).toBe('a');
    expect(utf8Prefix('a😀b', 5)).toBe('a😀');
    expect(utf8Prefix('é', 1)).toBe('');
    expect(utf8Prefix('abc', 10)).toBe('abc');
  });

  it('property: a truncated result fits the bound, is well-formed, and is a prefix of the JSON + marker', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), fc.integer({ min: 40, max: 400 }), (text, limit) => {
        const json = JSON.stringify({ text });
        const s = serializeToolResult({ text }, limit);
        if (!s.ok) throw new Error('unexpected failure');
        if (utf8ByteLength(json) <= limit) {
          expect(s).toMatchObject({ truncated: false, value: { text } });
          return;
        }
        const out = s.value as string;
        expect(s.truncated).toBe(true);
        expect(utf8ByteLength(out)).toBeLessThanOrEqual(limit);
        expect(LONE_SURROGATE.test(out)).toBe(false);
        const m = /…\[truncated: (\d+) of (\d+) bytes\]$/.exec(out)!;
        expect(Number(m[2])).toBe(utf8ByteLength(json));
        const prefix = out.slice(0, m.index);
        expect(json.startsWith(prefix)).toBe(true);
        expect(utf8ByteLength(prefix)).toBe(Number(m[1]));
      }),
      { seed: 42, numRuns: 500 },
    );
  });

  it('a bound smaller than the marker yields the marker alone', () => {
    const s = serializeToolResult('x'.repeat(100), 5);
    expect(s).toEqual({ ok: true, value: truncationMarker(0, 102), truncated: true, bytes: utf8ByteLength(truncationMarker(0, 102)) });
  });
});

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { blockHashHex, canonicalJson, hashBlock } from './block-hash';

describe('canonicalJson', () => {
  it('sorts keys at every depth and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' } })).toBe('{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}');
  });

  it('follows JSON.stringify value rules', () => {
    expect(canonicalJson({ u: undefined, f: () => 1, n: null, inf: Infinity, arr: [undefined, NaN], d: new Date(0) })).toBe(
      '{"arr":[null,null],"d":"1970-01-01T00:00:00.000Z","inf":null,"n":null}',
    );
    expect(canonicalJson('é"\n')).toBe(JSON.stringify('é"\n'));
    expect(canonicalJson({ '10': 1, '9': 2, a: 3 })).toBe('{"10":1,"9":2,"a":3}');
  });

  it('agrees with JSON.parse', () => {
    const v = { kind: 'tool_call', id: 'c1', name: 'calc', args: { expression: '(4*5)-1', nested: { b: [1, 2], a: true } }, providerCallId: null };
    expect(JSON.parse(canonicalJson(v))).toEqual(v);
  });

  it('rejects cycles and bigint, but not shared references', () => {
    const cyc: Record<string, unknown> = {};
    cyc.self = cyc;
    expect(() => canonicalJson(cyc)).toThrow(/cyclic/);
    expect(() => canonicalJson({ n: 1n })).toThrow(/bigint/);
    const shared = { x: 1 };
    expect(canonicalJson({ a: shared, b: shared })).toBe('{"a":{"x":1},"b":{"x":1}}');
  });
});

describe('hashBlock', () => {
  it('is sha256 of the canonical JSON, independent of key order', () => {
    const a = hashBlock({ kind: 'user', id: 'u1', text: 'hi' });
    const b = hashBlock({ text: 'hi', id: 'u1', kind: 'user' });
    expect(a.json).toBe('{"id":"u1","kind":"user","text":"hi"}');
    expect(a.hash.equals(b.hash)).toBe(true);
    expect(a.hash.length).toBe(32);
    expect(blockHashHex({ kind: 'user', id: 'u1', text: 'hi' })).toBe(createHash('sha256').update(a.json).digest('hex'));
    expect(blockHashHex({ kind: 'user', id: 'u1', text: 'hi ' })).not.toBe(blockHashHex({ kind: 'user', id: 'u1', text: 'hi' }));
  });
});

import { describe, expect, it } from 'vitest';
import { parseToolArguments, ToolCallAssembler } from './tool-calls';

describe('parseToolArguments', () => {
  it('parses JSON, maps empty to {}, keeps unparsable text under _raw', () => {
    expect(parseToolArguments('{"a":1}')).toEqual({ a: 1 });
    expect(parseToolArguments('')).toEqual({});
    expect(parseToolArguments(null)).toEqual({});
    expect(parseToolArguments('{"a":')).toEqual({ _raw: '{"a":' });
  });
});

describe('ToolCallAssembler', () => {
  it('merges interleaved fragments by key, in the order calls began', () => {
    const a = new ToolCallAssembler();
    a.add(0, { id: 'c0', name: 'calc', args: '' });
    a.add(1, { id: 'c1', name: 'get_time', args: '{"tz"' });
    a.add(0, { args: '{"expression":' });
    a.add(1, { args: ':"UTC"}' });
    a.add(0, { args: '"1+1"}' });
    expect(a.drain()).toEqual([
      { providerId: 'c0', name: 'calc', argsText: '{"expression":"1+1"}', meta: {} },
      { providerId: 'c1', name: 'get_time', argsText: '{"tz":"UTC"}', meta: {} },
    ]);
    expect(a.size).toBe(0);
  });

  it('a different id under the same index starts a new call (servers that send every call with index 0)', () => {
    const a = new ToolCallAssembler();
    a.add(0, { id: 'a', name: 'calc', args: '{}' });
    a.add(0, { id: 'b', name: 'calc', args: '{"x":1}' });
    expect(a.drain().map((c) => [c.providerId, c.argsText])).toEqual([['a', '{}'], ['b', '{"x":1}']]);
  });

  it('the same id twice under different indexes stays two calls', () => {
    const a = new ToolCallAssembler();
    a.add(0, { id: 'dup', name: 'calc' });
    a.add(1, { id: 'dup', name: 'calc' });
    expect(a.drain()).toHaveLength(2);
  });

  it('take() removes one call; setArgs() replaces its arguments', () => {
    const a = new ToolCallAssembler();
    a.add(3, { id: 'x', name: 'n', args: '{"a"' });
    a.setArgs(3, '{"a":2}');
    expect(a.take(3)).toMatchObject({ providerId: 'x', argsText: '{"a":2}' });
    expect(a.take(3)).toBeNull();
  });
});

import { describe, expect, it } from 'vitest';
import { blocks, newTurn } from '../../inference/turn';
import { providerCallIds, toConversation, toolArgsJson, toolResultText } from './history';

describe('toConversation', () => {
  it('joins system blocks, merges consecutive users, groups assistant parts and tool results', () => {
    const turn = newTurn([
      blocks.system('a'), blocks.user('u1'), blocks.user('u2'), blocks.system('b'),
      blocks.llmText('t'), blocks.toolCall('c1', 'calc', {}, 'p1'), blocks.toolCall('c2', 'calc', {}, null),
      blocks.toolUse('c1', 'completed', 'ok', null), blocks.toolUse('c2', 'timeout', null, 'took too long'),
      blocks.llmText(''),
    ]);
    const conv = toConversation(turn);
    expect(conv.system).toBe('a\n\nb');
    expect(conv.items.map((i) => i.role)).toEqual(['user', 'assistant', 'tool']);
    expect(conv.items[0]).toEqual({ role: 'user', text: 'u1\n\nu2' });
    const tool = conv.items[2]!;
    if (tool.role !== 'tool') throw new Error('expected tool results');
    expect(tool.results.map((r) => [r.callId, r.name, r.text, r.isError])).toEqual([
      ['p1', 'calc', 'ok', false],
      ['c2', 'calc', '{"status":"timeout","error":"took too long"}', true],
    ]);
  });
});

describe('providerCallIds', () => {
  it('uses the provider id, unless an earlier call already used it', () => {
    const turn = newTurn([
      blocks.toolCall('c1', 'calc', {}, 'dup'), blocks.toolCall('call_x', 'calc', {}, 'dup'), blocks.toolCall('c3', 'calc', {}, null),
    ]);
    expect([...providerCallIds(turn).entries()]).toEqual([['c1', 'dup'], ['call_x', 'call_x'], ['c3', 'c3']]);
  });
});

describe('tool arguments and results as text', () => {
  it('sends {_raw} arguments back as the raw text the model wrote', () => {
    expect(toolArgsJson({ _raw: '{"a": 2+' })).toBe('{"a": 2+');
    expect(toolArgsJson({ a: 1 })).toBe('{"a":1}');
    expect(toolArgsJson(undefined)).toBe('{}');
  });
  it('strings stay strings; values become JSON', () => {
    expect(toolResultText(blocks.toolUse('x', 'completed', 'hi', null))).toEqual({ text: 'hi', isError: false });
    expect(toolResultText(blocks.toolUse('x', 'completed', { n: 1 }, null))).toEqual({ text: '{"n":1}', isError: false });
    expect(toolResultText(blocks.toolUse('x', 'cancelled', null, null))).toEqual({ text: '{"status":"cancelled","error":"cancelled"}', isError: true });
  });
});

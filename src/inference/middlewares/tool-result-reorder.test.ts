import { describe, expect, it } from 'vitest';
import { compose } from '../middleware';
import { blocks, newTurn, type Block } from '../turn';
import { reorderToolResults, reorderTurnToolResults, toolResultReorderMiddleware } from './tool-result-reorder';
import { fakeEngine, testOpts } from './test-utils';

const call = (id: string) => blocks.toolCall(id, 'calc', { expr: id });
const use = (id: string) => blocks.toolUse(id, 'completed', `r-${id}`, null);
const label = (bs: readonly Block[]) => bs.map((b) => (b.kind === 'tool_call' ? `C:${b.id}` : b.kind === 'tool_use' ? `U:${b.id}` : b.id));

describe('reorderToolResults', () => {
  it('moves answers to directly after their call run, in call order, keeping other blocks in order', () => {
    const input: Block[] = [
      blocks.user('q', 'u1'),
      call('a'), call('b'),
      blocks.llmText('note', 't1'),
      use('b'),
      blocks.user('more', 'u2'),
      use('a'),
    ];
    expect(label(reorderToolResults(input))).toEqual(['u1', 'C:a', 'C:b', 'U:a', 'U:b', 't1', 'u2']);
  });

  it('handles several interleaved runs independently', () => {
    const input: Block[] = [
      blocks.user('q', 'u1'),
      call('a'),
      blocks.llmText('x', 't1'),
      call('b'), call('c'),
      use('c'), use('a'),
      blocks.llmText('y', 't2'),
      use('b'),
    ];
    expect(label(reorderToolResults(input))).toEqual(['u1', 'C:a', 'U:a', 't1', 'C:b', 'C:c', 'U:b', 'U:c', 't2']);
  });

  it('never adds or removes blocks; leaves unanswered calls, orphans and earlier answers in place', () => {
    const input: Block[] = [use('early'), blocks.user('q', 'u1'), use('orphan'), call('early'), call('pending'), blocks.llmText('t', 't1')];
    const out = reorderToolResults(input);
    expect(label(out)).toEqual(['U:early', 'u1', 'U:orphan', 'C:early', 'C:pending', 't1']);
    expect(new Set(out)).toEqual(new Set(input));
  });

  it('is the identity on an already ordered turn (same object back)', () => {
    const t = newTurn([blocks.user('q'), call('a'), use('a'), blocks.llmText('done')]);
    expect(reorderTurnToolResults(t)).toBe(t);
  });
});

describe('toolResultReorderMiddleware', () => {
  it('reorders the turn before the engine sees it and the returned turn stays ordered', async () => {
    const engine = fakeEngine(blocks.llmText('final', 'f'));
    const h = compose([toolResultReorderMiddleware()], engine);
    const t = newTurn([blocks.user('q', 'u1'), call('a'), blocks.llmText('mid', 'm'), use('a')]);
    const out = await h(t, testOpts());
    expect(label(engine.seen[0]!.blocks)).toEqual(['u1', 'C:a', 'U:a', 'm']);
    expect(label(out.blocks)).toEqual(['u1', 'C:a', 'U:a', 'm', 'f']);
    expect(label(t.blocks)).toEqual(['u1', 'C:a', 'm', 'U:a']); // input not mutated
  });
});

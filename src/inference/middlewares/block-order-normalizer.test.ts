import { describe, expect, it } from 'vitest';
import { compose } from '../middleware';
import { blocks, newTurn, type Block } from '../turn';
import { blockOrderNormalizerMiddleware, normalizeBlockOrder, normalizeTurnBlockOrder } from './block-order-normalizer';
import { captureEvents, fakeEngine, testOpts } from './test-utils';

const call = (id: string) => blocks.toolCall(id, 'calc', {});
const use = (id: string) => blocks.toolUse(id, 'completed', 1, null);
const label = (bs: readonly Block[]) =>
  bs.map((b) => (b.kind === 'tool_call' ? `C:${b.id}` : b.kind === 'tool_use' ? `U:${b.id}` : b.kind === 'system' ? `S:${b.id}` : b.id));
const sys = (id: string) => ({ ...blocks.system(id), id });

describe('normalizeBlockOrder', () => {
  it('puts system blocks first (in order), history in order, answers right after their call run', () => {
    const input: Block[] = [
      blocks.user('q1', 'u1'),
      sys('s1'),
      call('a'), call('b'),
      blocks.llmText('t', 't1'),
      use('b'), use('a'),
      sys('s2'),
      blocks.user('q2', 'u2'),
    ];
    const { blocks: out, dropped } = normalizeBlockOrder(input);
    expect(label(out)).toEqual(['S:s1', 'S:s2', 'u1', 'C:a', 'C:b', 'U:a', 'U:b', 't1', 'u2']);
    expect(dropped).toEqual([]);
  });

  it('moves an answer that came before its call to after it, and keeps separate steps separate', () => {
    const input: Block[] = [blocks.user('q', 'u1'), use('a'), blocks.llmText('t', 't1'), call('a'), call('b'), use('b')];
    expect(label(normalizeBlockOrder(input).blocks)).toEqual(['u1', 't1', 'C:a', 'C:b', 'U:a', 'U:b']);
    const steps: Block[] = [blocks.user('q', 'u1'), call('a'), use('a'), call('b'), use('b')];
    expect(label(normalizeBlockOrder(steps).blocks)).toEqual(['u1', 'C:a', 'U:a', 'C:b', 'U:b']);
  });

  it('drops an orphan tool_use and a second answer to the same call', () => {
    const input: Block[] = [blocks.user('q', 'u1'), use('ghost'), call('a'), use('a'), use('a')];
    const { blocks: out, dropped } = normalizeBlockOrder(input);
    expect(label(out)).toEqual(['u1', 'C:a', 'U:a']);
    expect(dropped).toEqual([
      { index: 1, id: 'ghost', kind: 'tool_use', reason: 'orphan_tool_use' },
      { index: 4, id: 'a', kind: 'tool_use', reason: 'duplicate_tool_use' },
    ]);
  });

  it('leaves unanswered calls alone and returns the same turn when already normal', () => {
    const t = newTurn([sys('s'), blocks.user('q', 'u1'), call('a'), use('a'), call('p')]);
    expect(normalizeTurnBlockOrder(t).turn).toBe(t);
  });
});

describe('blockOrderNormalizerMiddleware', () => {
  it('sends the normalized turn, drops an orphan and publishes a warn log event', async () => {
    const engine = fakeEngine(blocks.llmText('ok', 'r'));
    const h = compose([blockOrderNormalizerMiddleware()], engine);
    const t = newTurn([blocks.user('q', 'u1'), sys('s'), use('ghost'), call('a'), use('a')]);
    const { result, events } = await captureEvents(() => h(t, testOpts()));
    expect(label(engine.seen[0]!.blocks)).toEqual(['S:s', 'u1', 'C:a', 'U:a']);
    expect(label(result.blocks)).toEqual(['S:s', 'u1', 'C:a', 'U:a', 'r']);
    const logs = events.filter((e) => e.type === 'log');
    expect(logs).toHaveLength(1);
    const log = logs[0]!;
    if (log.type !== 'log') throw new Error('unreachable');
    expect(log.level).toBe('warn');
    expect(log.meta).toMatchObject({ sessionId: 'sess', inferenceId: 'inf', turnId: 'turn' });
    expect(log.fields).toMatchObject({ droppedBlocks: 1, dropped: [{ id: 'ghost', reason: 'orphan_tool_use' }] });
  });

  it('publishes nothing when nothing was dropped', async () => {
    const h = compose([blockOrderNormalizerMiddleware()], fakeEngine());
    const { events } = await captureEvents(() => h(newTurn([blocks.user('q'), call('a'), use('a')]), testOpts()));
    expect(events).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { compose, type Middleware } from '../middleware';
import { blocks, newTurn, type Block } from '../turn';
import { estimateTokens, historyTrimMiddleware, trimHistory } from './history-trim';
import { captureEvents, fakeEngine, ids, testOpts } from './test-utils';

/** Every block costs 10 tokens: budgets read as block counts. */
const tenEach = (bs: readonly Block[]) => bs.length * 10;
const sys = (id: string): Block => ({ ...blocks.system(id), id });
const user = (id: string): Block => blocks.user(id, id);
const text = (id: string): Block => blocks.llmText(id, id);
const call = (id: string): Block => blocks.toolCall(id, 'calc', { expr: '1+1' });
const use = (id: string): Block => blocks.toolUse(id, 'completed', 2, null);

describe('estimateTokens', () => {
  it('is ceil(chars/4) over texts and the JSON of args and results', () => {
    expect(estimateTokens([blocks.user('abcde')])).toBe(2);
    // "calc" (4) + '{"expr":"1+1"}' (14) = 18 chars; result "ok" (2) → 20 → 5
    expect(estimateTokens([blocks.toolCall('c', 'calc', { expr: '1+1' }), blocks.toolUse('c', 'completed', 'ok', null)])).toBe(5);
    expect(estimateTokens([])).toBe(0);
  });
});

describe('trimHistory', () => {
  const history: Block[] = [sys('s'), user('u1'), text('a1'), user('u2'), call('c2'), use('c2'), text('a2'), user('u3')];

  it('keeps everything when it fits', () => {
    const r = trimHistory(history, 80, tenEach);
    expect(r.dropped).toEqual([]);
    expect(ids(r.kept)).toEqual(ids(history));
  });

  it('drops the oldest whole exchanges first, keeping system blocks', () => {
    const r = trimHistory(history, 70, tenEach);
    expect(ids(r.dropped)).toEqual(['u1', 'a1']);
    expect(ids(r.kept)).toEqual(['s', 'u2', 'c2', 'c2', 'a2', 'u3']);
    expect(r.estimatedTokens).toBe(60);
    expect(r.originalTokens).toBe(80);
  });

  it('always keeps the latest exchange, even over budget', () => {
    const r = trimHistory(history, 5, tenEach);
    expect(ids(r.kept)).toEqual(['s', 'u3']);
    expect(r.estimatedTokens).toBe(20);
  });

  it('never separates a tool_call from its tool_use across exchanges', () => {
    // c1's answer landed in the next exchange: exchanges 1 and 2 can only go together
    const split: Block[] = [user('u1'), call('c1'), user('u2'), use('c1'), text('a2'), user('u3'), text('a3')];
    const r = trimHistory(split, 60, tenEach);
    expect(ids(r.dropped)).toEqual(['u1', 'c1', 'u2', 'c1', 'a2']);
    expect(ids(r.kept)).toEqual(['u3', 'a3']);
    for (const b of r.kept) {
      if (b.kind === 'tool_use') expect(r.kept.some((c) => c.kind === 'tool_call' && c.id === b.id)).toBe(true);
      if (b.kind === 'tool_call') expect(r.kept.some((u) => u.kind === 'tool_use' && u.id === b.id)).toBe(true);
    }
  });

  it('does not cut when a tool pair reaches into the latest exchange', () => {
    const split: Block[] = [user('u1'), call('c1'), user('u2'), use('c1')];
    const r = trimHistory(split, 10, tenEach);
    expect(r.dropped).toEqual([]);
  });

  it('treats blocks before the first user block as an exchange of their own', () => {
    const r = trimHistory([text('greeting'), user('u1'), text('a1')], 20, tenEach);
    expect(ids(r.dropped)).toEqual(['greeting']);
  });
});

describe('historyTrimMiddleware', () => {
  const history: Block[] = [
    sys('s'),
    user('u1'), call('c1'), use('c1'), text('a1'),
    user('u2'), text('a2'),
    user('u3'),
  ];

  it('sends a trimmed turn, returns the full history plus the new blocks, and logs', async () => {
    const engine = fakeEngine(call('c3'));
    const h = compose([historyTrimMiddleware({ maxTokens: 40, estimateTokens: tenEach })], engine);
    const { result, events } = await captureEvents(() => h(newTurn(history), testOpts()));
    expect(ids(engine.seen[0]!)).toEqual(['s', 'u2', 'a2', 'u3']);
    expect(ids(result)).toEqual([...ids(history), 'c3']);
    const logs = events.filter((e) => e.type === 'log');
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({ level: 'info', fields: { droppedBlocks: 4, estimatedTokens: 40 } });
  });

  it('keeps inner middleware edits of the kept part (e.g. a system prompt inserted at 0)', async () => {
    const engine = fakeEngine(text('new'));
    const insertSystem: Middleware = (next) => (t, o) => next({ ...t, blocks: [sys('inner'), ...t.blocks] }, o);
    const h = compose([historyTrimMiddleware({ maxTokens: 20, estimateTokens: tenEach }), insertSystem], engine);
    const result = await h(newTurn([user('u1'), text('a1'), user('u2')]), testOpts());
    expect(ids(engine.seen[0]!)).toEqual(['inner', 'u2']);
    expect(ids(result)).toEqual(['inner', 'u1', 'a1', 'u2', 'new']);
  });

  it('passes the turn through untouched when it fits, publishing nothing', async () => {
    const engine = fakeEngine();
    const h = compose([historyTrimMiddleware({ maxTokens: 1_000 })], engine);
    const t = newTurn(history);
    const { result, events } = await captureEvents(() => h(t, testOpts()));
    expect(engine.seen[0]).toBe(t);
    expect(ids(result)).toEqual(ids(history));
    expect(events).toEqual([]);
  });

  it('warns when over budget and nothing can be dropped', async () => {
    const h = compose([historyTrimMiddleware({ maxTokens: 1, estimateTokens: tenEach })], fakeEngine());
    const { events } = await captureEvents(() => h(newTurn([sys('s'), user('only')]), testOpts()));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'log', level: 'warn', fields: { droppedBlocks: 0 } });
  });

  it('rejects a non-positive budget', () => {
    expect(() => historyTrimMiddleware({ maxTokens: 0 })).toThrow(/maxTokens/);
  });
});

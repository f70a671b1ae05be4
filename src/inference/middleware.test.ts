import { describe, expect, it } from 'vitest';
import { compose, type Handler, type Middleware } from './middleware';
import type { EngineCallOptions } from './engine';
import { appendBlocks, blocks, newTurn } from './turn';

const opts: EngineCallOptions = {
  signal: new AbortController().signal,
  run: { sessionId: 's', inferenceId: 'i', turnId: 't' },
  tools: [],
  settings: {},
};

describe('compose', () => {
  it('makes the first listed middleware the outermost (D8)', async () => {
    const trace: string[] = [];
    const mw = (name: string): Middleware => (next) => async (turn, o) => {
      trace.push(`${name}>`);
      const out = await next(turn, o);
      trace.push(`${name}<`);
      return out;
    };
    const h: Handler = async (turn) => {
      trace.push('h');
      return turn;
    };
    await compose([mw('A'), mw('B'), mw('C')], h)(newTurn(), opts);
    expect(trace.join(' ')).toBe('A> B> C> h C< B< A<');
  });

  it('passes each layer the turn the outer layer handed down, and the result back up', async () => {
    const tag = (name: string): Middleware => (next) => async (turn, o) =>
      appendBlocks(await next(appendBlocks(turn, blocks.user(`${name}-in`, `${name}-in`)), o), blocks.llmText(`${name}-out`, `${name}-out`));
    const h: Handler = async (turn) => appendBlocks(turn, blocks.llmText('h', 'h'));
    const out = await compose([tag('A'), tag('B')], h)(newTurn(), opts);
    expect(out.blocks.map((b) => b.id)).toEqual(['A-in', 'B-in', 'h', 'B-out', 'A-out']);
  });

  it('with no middlewares is the handler itself', async () => {
    const h: Handler = async (turn) => appendBlocks(turn, blocks.llmText('x', 'x'));
    const out = await compose([], h)(newTurn(), opts);
    expect(out.blocks.map((b) => b.id)).toEqual(['x']);
  });
});

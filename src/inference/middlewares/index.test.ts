import { describe, expect, it } from 'vitest';
import { InferenceError } from '../errors';
import { compose } from '../middleware';
import { blocks, newTurn } from '../turn';
import {
  BUILTIN_MIDDLEWARE_NAMES, BUILTIN_MIDDLEWARES, buildMiddleware, MiddlewareOptionsError, UnknownMiddlewareError,
  validateMiddlewareOptions,
} from './index';
import { captureEvents, fakeEngine, kinds, testOpts } from './test-utils';

describe('BUILTIN_MIDDLEWARES', () => {
  it('registers every built-in by its profile name', () => {
    expect(Object.keys(BUILTIN_MIDDLEWARES).sort()).toEqual(
      ['block-order-normalizer', 'history-trim', 'logging', 'system-prompt', 'tool-call-noise', 'tool-result-reorder'],
    );
    expect([...BUILTIN_MIDDLEWARE_NAMES].sort()).toEqual(Object.keys(BUILTIN_MIDDLEWARES).sort());
  });

  it('builds working middlewares from profile options', async () => {
    const list = [
      buildMiddleware('tool-result-reorder'),
      buildMiddleware('block-order-normalizer', {}),
      buildMiddleware('history-trim', { max_tokens: 100_000 }),
      buildMiddleware('tool-call-noise', null),
      buildMiddleware('system-prompt', { prompt: 'Be kind.' }),
    ];
    const engine = fakeEngine(blocks.llmText('hi <tool_call>{"name":"x"}</tool_call>'));
    const out = await compose(list, engine)(newTurn([blocks.user('q')]), testOpts());
    expect(kinds(engine.seen[0]!)).toEqual(['system', 'user']);
    expect(out.blocks.at(-1)).toMatchObject({ kind: 'llm_text', text: 'hi' });
  });

  it('the logging built-in publishes log events (debug by default, errors at error level)', async () => {
    const ok = compose([buildMiddleware('logging')], fakeEngine());
    const { events } = await captureEvents(() => ok(newTurn([blocks.user('q')]), testOpts()));
    expect(events.map((e) => (e.type === 'log' ? `${e.level}:${e.message}` : e.type))).toEqual([
      'debug:inference request', 'debug:inference response',
    ]);
    const failing = compose([buildMiddleware('logging', { level: 'info' })], async () => { throw new Error('x'); });
    const { events: failed } = await captureEvents(() => failing(newTurn(), testOpts()).catch(() => null));
    const captured = failed.map((e) => (e.type === 'log' ? e.level : e.type));
    expect(captured).toEqual(['info', 'error']);
  });

  it('throws a clear error on bad options', () => {
    expect(() => buildMiddleware('history-trim', {})).toThrow(MiddlewareOptionsError);
    expect(() => buildMiddleware('history-trim', {})).toThrow(/middleware "history-trim": invalid options: max_tokens:/);
    expect(() => buildMiddleware('history-trim', { max_tokens: -5 })).toThrow(/max_tokens/);
    expect(() => buildMiddleware('history-trim', { max_tokens: '100' })).toThrow(/max_tokens/);
    expect(() => BUILTIN_MIDDLEWARES['system-prompt']!({})).toThrow(/prompt/);
    expect(() => buildMiddleware('tool-call-noise', { agressive: true })).toThrow(/agressive/);
    expect(() => buildMiddleware('logging', { level: 'trace' })).toThrow(/level/);
    try {
      buildMiddleware('history-trim', { max_tokens: 0 });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(InferenceError);
      expect((err as InferenceError).code).toBe('invalid_middleware_options');
    }
  });

  it('throws on an unknown name, listing the known ones', () => {
    expect(() => buildMiddleware('agentmode')).toThrow(UnknownMiddlewareError);
    expect(() => buildMiddleware('agentmode')).toThrow(/unknown middleware "agentmode" \(known: .*history-trim/);
    expect(() => buildMiddleware('toString')).toThrow(UnknownMiddlewareError);
  });

  it('validateMiddlewareOptions applies defaults without building', () => {
    expect(validateMiddlewareOptions('logging', undefined)).toEqual({ level: 'debug' });
    expect(validateMiddlewareOptions('history-trim', { max_tokens: 8000 })).toEqual({ max_tokens: 8000 });
  });
});

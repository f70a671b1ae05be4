import { describe, expect, it } from 'vitest';
import { compose } from '../middleware';
import { blocks, newTurn } from '../turn';
import { loggingMiddleware, type LogEntry } from './logging';
import { fakeEngine, testOpts } from './test-utils';

describe('loggingMiddleware', () => {
  it('logs the request and the response with block counts and a duration', async () => {
    const entries: LogEntry[] = [];
    const h = compose([loggingMiddleware((e) => entries.push(e))], fakeEngine(blocks.llmText('a'), blocks.llmText('b')));
    const out = await h(newTurn([blocks.user('q')]), testOpts());
    expect(out.blocks).toHaveLength(3);
    expect(entries.map((e) => e.phase)).toEqual(['request', 'response']);
    expect(entries[0]).toEqual({ phase: 'request', blocks: 1 });
    expect(entries[1]).toMatchObject({ phase: 'response', blocks: 3 });
    expect(entries[1]!.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('logs an error and rethrows it unchanged', async () => {
    const entries: LogEntry[] = [];
    const boom = new Error('provider down');
    const h = compose([loggingMiddleware((e) => entries.push(e))], async () => { throw boom; });
    await expect(h(newTurn([blocks.user('q'), blocks.llmText('x')]), testOpts())).rejects.toBe(boom);
    expect(entries.map((e) => e.phase)).toEqual(['request', 'error']);
    expect(entries[1]).toMatchObject({ phase: 'error', blocks: 2, error: 'provider down' });
    expect(typeof entries[1]!.durationMs).toBe('number');
  });

  it('gives the logger the call context and survives a logger that throws', async () => {
    const runs: string[] = [];
    const h = compose(
      [loggingMiddleware((_e, ctx) => { runs.push(ctx.opts.run.inferenceId); throw new Error('logger broke'); })],
      fakeEngine(blocks.llmText('a')),
    );
    const out = await h(newTurn([blocks.user('q')]), testOpts());
    expect(out.blocks).toHaveLength(2);
    expect(runs).toEqual(['inf', 'inf']);
  });
});

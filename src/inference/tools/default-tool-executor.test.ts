import { describe, it, expect } from 'vitest';
import { z } from 'zod';
import { DefaultToolExecutor } from './default-tool-executor';
import { defineTool } from './tool-definition';
import { call, echoTool, failingTool, hangingTool, makeCtx } from './test-helpers';
import { utf8ByteLength } from './tool-result-json';

const exec = new DefaultToolExecutor();
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

describe('DefaultToolExecutor: one call', () => {
  it('runs a tool and returns its JSON result', async () => {
    const { ctx, rec } = makeCtx([echoTool()]);
    const [r] = await exec.execute([call('c1', 'echo', { value: { a: [1, 'x', null], d: new Date(0) } })], ctx);
    expect(r).toMatchObject({ id: 'c1', status: 'completed', error: null, truncated: false, retries: 0 });
    expect(r!.result).toEqual({ a: [1, 'x', null], d: '1970-01-01T00:00:00.000Z' });
    expect(r!.durationMs).toBeGreaterThanOrEqual(0);
    expect(rec.started).toEqual(['c1']);
    expect(rec.finished).toEqual([{ id: 'c1', status: 'completed' }]);
  });

  it('passes the validated (parsed) arguments, the call id and the principal', async () => {
    let seen: unknown[] = [];
    const tool = defineTool({
      name: 'spy',
      description: 'records',
      schema: z.object({ n: z.number().default(7) }),
      run: (args, c) => {
        seen = [args, c.toolCallId, c.principal, c.signal.aborted];
        return 'ok';
      },
    });
    const { ctx } = makeCtx([tool]);
    const [r] = await exec.execute([call('c9', 'spy', {})], ctx);
    expect(r!.status).toBe('completed');
    expect(seen).toEqual([{ n: 7 }, 'c9', 'alice', false]);
  });

  it('accepts arguments as JSON text, and empty text as no arguments', async () => {
    const noargs = defineTool({ name: 'noargs', description: 'n', schema: z.object({}).strict(), run: () => 'ok' });
    const { ctx } = makeCtx([echoTool(), noargs]);
    const rs = await exec.execute(
      [call('a', 'echo', '{"value": 3}'), call('b', 'echo', '{nope'), call('c', 'noargs', ''), call('d', 'noargs', null)],
      ctx,
    );
    expect(rs[0]).toMatchObject({ status: 'completed', result: 3 });
    expect(rs[1]).toMatchObject({ status: 'error', error: 'invalid arguments: not valid JSON' });
    expect(rs[2]).toMatchObject({ status: 'completed', result: 'ok' });
    expect(rs[3]).toMatchObject({ status: 'completed', result: 'ok' });
  });

  it('times out a tool that never settles and ignores its signal; the signal fires', async () => {
    const { tool, signals } = hangingTool();
    const { ctx, rec } = makeCtx([tool], { executionTimeoutMs: 50 });
    const [r] = await exec.execute([call('c1', 'hang')], ctx);
    expect(r).toMatchObject({ id: 'c1', status: 'timeout', error: 'tool timed out after 50 ms', result: null });
    expect(signals).toHaveLength(1);
    expect(signals[0]!.aborted).toBe(true);
    expect(rec.finished).toEqual([{ id: 'c1', status: 'timeout' }]);
  });

  it('maps a thrown error (async or sync) to an error result with its message', async () => {
    const sync = defineTool({
      name: 'sync_throw',
      description: 'throws synchronously',
      schema: z.object({}),
      run: () => {
        throw new TypeError('sync boom');
      },
    });
    const { ctx } = makeCtx([failingTool().tool, sync]);
    const [a, b] = await exec.execute([call('a', 'fail'), call('b', 'sync_throw')], ctx);
    expect(a).toMatchObject({ status: 'error', error: 'boom', result: null, retries: 0 });
    expect(b).toMatchObject({ status: 'error', error: 'sync boom' });
  });

  it('rejects invalid arguments before running, with a readable zod message and no onStart', async () => {
    let runs = 0;
    const tool = defineTool({
      name: 'typed',
      description: 'typed',
      schema: z.object({ expression: z.string(), n: z.number().int().optional() }),
      run: () => ++runs,
    });
    const { ctx, rec } = makeCtx([tool]);
    const [r] = await exec.execute([call('c1', 'typed', { expression: 5, n: 1.5 })], ctx);
    expect(r!.status).toBe('error');
    expect(r!.error).toMatch(/^invalid arguments: /);
    expect(r!.error).toContain('expression:');
    expect(r!.error).toContain('n:');
    expect(runs).toBe(0);
    expect(rec.started).toEqual([]);
    expect(rec.finished).toEqual([{ id: 'c1', status: 'error' }]);
  });

  it('reports an unknown tool and a tool outside allowedTools, without starting them', async () => {
    const { ctx, rec } = makeCtx([echoTool(), echoTool('other')], { allowedTools: ['echo'] });
    const rs = await exec.execute([call('a', 'nope'), call('b', 'other', { value: 1 }), call('c', 'echo', { value: 2 })], ctx);
    expect(rs.map((r) => [r.id, r.status, r.error])).toEqual([
      ['a', 'error', 'tool not found: nope'],
      ['b', 'error', 'tool not allowed: other'],
      ['c', 'completed', null],
    ]);
    expect(rec.started).toEqual(['c']);
    expect(rec.finished.map((f) => f.id).sort()).toEqual(['a', 'b', 'c']);
  });

  it('truncates an oversized result to a string within the byte bound, with the marker', async () => {
    const { ctx } = makeCtx([echoTool()], { maxToolResultBytes: 1000 });
    const big = { text: 'x'.repeat(5000) };
    const [r] = await exec.execute([call('c1', 'echo', { value: big })], ctx);
    expect(r).toMatchObject({ status: 'completed', truncated: true });
    const s = r!.result as string;
    expect(typeof s).toBe('string');
    expect(utf8ByteLength(s)).toBeLessThanOrEqual(1000);
    const total = utf8ByteLength(JSON.stringify(big));
    const m = /…\[truncated: (\d+) of (\d+) bytes\]$/.exec(s);
    expect(m).not.toBeNull();
    expect(Number(m![2])).toBe(total);
    expect(s.startsWith('{"text":"xxx')).toBe(true);
    expect(utf8ByteLength(s.slice(0, m!.index))).toBe(Number(m![1]));
  });

  it('never splits a surrogate pair when truncating multi-byte text', async () => {
    for (const limit of [100, 101, 102, 103, 104, 105]) {
      const { ctx } = makeCtx([echoTool()], { maxToolResultBytes: limit });
      const [r] = await exec.execute([call('c1', 'echo', { value: 'a😀é中'.repeat(40) })], ctx);
      const s = r!.result as string;
      expect(r!.truncated).toBe(true);
      expect(utf8ByteLength(s)).toBeLessThanOrEqual(limit);
      expect(LONE_SURROGATE.test(s)).toBe(false);
    }
  });

  it('keeps a result at exactly the bound untouched', async () => {
    const value = 'y'.repeat(98); // JSON text: 100 bytes with the quotes
    const { ctx } = makeCtx([echoTool()], { maxToolResultBytes: 100 });
    const [r] = await exec.execute([call('c1', 'echo', { value })], ctx);
    expect(r).toMatchObject({ status: 'completed', truncated: false, result: value });
  });

  it('turns non-JSON-serializable results (function, BigInt, cycle) into errors', async () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const values: Record<string, unknown> = { fn: () => 1, nested_fn: { f: () => 1 }, big: 10n, cycle: cyclic };
    const tools = Object.entries(values).map(([name, v]) =>
      defineTool({ name, description: name, schema: z.object({}), run: () => v }),
    );
    const { ctx } = makeCtx(tools);
    const rs = await exec.execute(Object.keys(values).map((n) => call(n, n)), ctx);
    for (const r of rs) {
      expect(r.status).toBe('error');
      expect(r.error).toMatch(/not JSON-serializable/);
    }
  });

  it('returns null for a tool that returns undefined', async () => {
    const tool = defineTool({ name: 'void', description: 'v', schema: z.object({}), run: () => undefined });
    const { ctx } = makeCtx([tool]);
    const [r] = await exec.execute([call('c1', 'void')], ctx);
    expect(r).toMatchObject({ status: 'completed', result: null });
  });

  it('returns an empty list for an empty batch', async () => {
    const { ctx } = makeCtx([]);
    expect(await exec.execute([], ctx)).toEqual([]);
  });

  it('swallows a throwing onStart/onResult and still returns every result', async () => {
    const { ctx } = makeCtx([echoTool()]);
    ctx.onStart = () => {
      throw new Error('sink down');
    };
    ctx.onResult = () => {
      throw new Error('sink down');
    };
    const rs = await exec.execute([call('a', 'echo', { value: 1 }), call('b', 'nope')], ctx);
    expect(rs.map((r) => r.status)).toEqual(['completed', 'error']);
  });
});

import { describe, it, expect } from 'vitest';
import { z } from 'zod';
import { abortingFailure, DefaultToolExecutor, toolAbortError } from './default-tool-executor';
import { ToolAbortError } from '../errors';
import { defineTool } from './tool-definition';
import { call, failingTool, hangingTool, makeCtx, until } from './test-helpers';

const exec = new DefaultToolExecutor();

/** A tool whose calls stay running until the test resolves them. */
function gatedTool() {
  const pending = new Map<number, () => void>();
  let running = 0;
  let maxRunning = 0;
  const tool = defineTool({
    name: 'gated',
    description: 'waits for the test',
    schema: z.object({ i: z.number().int() }),
    run: ({ i }) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      return new Promise<{ i: number }>((resolve) =>
        pending.set(i, () => {
          running--;
          pending.delete(i);
          resolve({ i });
        }),
      );
    },
  });
  return { tool, pending, maxRunning: () => maxRunning };
}

describe('DefaultToolExecutor: parallel bound and order', () => {
  for (const [bound, expected] of [
    [3, 3],
    [1, 1],
    [0, 1],
    [100, 8],
  ] as const) {
    it(`maxParallelTools=${bound}: 8 calls, at most ${expected} at once, results in call order`, async () => {
      const g = gatedTool();
      const { ctx, rec } = makeCtx([g.tool], { maxParallelTools: bound });
      const calls = Array.from({ length: 8 }, (_, i) => call(`c${i}`, 'gated', { i }));
      const done = exec.execute(calls, ctx);
      for (let remaining = 8; remaining > 0; remaining--) {
        // wait for every free slot to be taken, then finish the *latest* running call first
        await until(() => g.pending.size === Math.min(expected, remaining));
        g.pending.get(Math.max(...g.pending.keys()))!();
      }
      const results = await done;
      expect(g.maxRunning()).toBe(expected);
      expect(results.map((r) => r.id)).toEqual(calls.map((c) => c.id));
      expect(results.map((r) => (r.result as { i: number }).i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      expect(results.every((r) => r.status === 'completed')).toBe(true);
      // onStart / onResult: exactly once per call; starts in call order; completions were not
      expect(rec.started).toEqual(calls.map((c) => c.id));
      expect([...rec.finished.map((f) => f.id)].sort()).toEqual(calls.map((c) => c.id).sort());
      if (expected > 1) expect(rec.finished.map((f) => f.id)).not.toEqual(calls.map((c) => c.id));
    });
  }
});

describe('DefaultToolExecutor: error policies', () => {
  it('continue: a failure is just that call’s result', async () => {
    const { tool } = failingTool();
    const g = gatedTool();
    const { ctx } = makeCtx([tool, g.tool], { errorPolicy: 'continue' });
    const done = exec.execute([call('a', 'fail'), call('b', 'gated', { i: 1 })], ctx);
    await until(() => g.pending.size === 1);
    g.pending.get(1)!();
    const rs = await done;
    expect(rs.map((r) => r.status)).toEqual(['error', 'completed']);
    expect(abortingFailure(rs, ctx.config)).toBeNull();
    expect(toolAbortError([], rs, ctx.config)).toBeNull();
  });

  it('abort: the first failure cancels running (even signal-ignoring) and unstarted calls', async () => {
    const { tool: fail } = failingTool('fail', 'kaput');
    const h = hangingTool();
    const g = gatedTool();
    const { ctx, rec } = makeCtx([fail, h.tool, g.tool], { errorPolicy: 'abort', maxParallelTools: 2 });
    const calls = [call('a', 'hang'), call('b', 'fail'), call('c', 'gated', { i: 3 }), call('d', 'gated', { i: 4 })];
    const rs = await exec.execute(calls, ctx);
    expect(rs.map((r) => [r.id, r.status])).toEqual([
      ['a', 'cancelled'],
      ['b', 'error'],
      ['c', 'cancelled'],
      ['d', 'cancelled'],
    ]);
    expect(rs[0]!.error).toContain('fail');
    expect(h.signals[0]!.aborted).toBe(true);
    expect(g.pending.size).toBe(0); // c and d never ran
    expect(rec.started).toEqual(['a', 'b']);
    expect(rec.finished).toHaveLength(4);
    expect(abortingFailure(rs, ctx.config)).toBe(rs[1]);
    const err = toolAbortError(calls, rs, ctx.config);
    expect(err).toBeInstanceOf(ToolAbortError);
    expect(err!.code).toBe('tool_abort');
    expect(err!.message).toContain('fail');
    expect(err!.message).toContain('kaput');
  });

  it('abort: an invalid-arguments error also aborts the batch before anything starts', async () => {
    const g = gatedTool();
    const { ctx, rec } = makeCtx([g.tool], { errorPolicy: 'abort' });
    const rs = await exec.execute([call('a', 'gated', { i: 'x' }), call('b', 'gated', { i: 2 })], ctx);
    expect(rs.map((r) => r.status)).toEqual(['error', 'cancelled']);
    expect(rec.started).toEqual([]);
  });

  it('abort: a timeout counts as a failure', async () => {
    const h = hangingTool();
    const g = gatedTool();
    const { ctx } = makeCtx([h.tool, g.tool], { errorPolicy: 'abort', executionTimeoutMs: 30 });
    const rs = await exec.execute([call('a', 'hang'), call('b', 'gated', { i: 1 })], ctx);
    expect(rs.map((r) => r.status)).toEqual(['timeout', 'cancelled']);
    expect(abortingFailure(rs, ctx.config)?.id).toBe('a');
  });

  it('retry: fails twice then succeeds → completed with retries: 2', async () => {
    let attempts = 0;
    const flaky = defineTool({
      name: 'flaky',
      description: 'fails twice',
      schema: z.object({}),
      run: () => {
        attempts++;
        if (attempts <= 2) throw new Error(`attempt ${attempts} failed`);
        return { ok: attempts };
      },
    });
    const { ctx, rec } = makeCtx([flaky], { errorPolicy: 'retry', retry: { maxRetries: 3, backoffBaseMs: 1, backoffFactor: 2 } });
    const [r] = await exec.execute([call('a', 'flaky')], ctx);
    expect(r).toMatchObject({ status: 'completed', retries: 2, result: { ok: 3 }, error: null });
    expect(attempts).toBe(3);
    expect(rec.started).toEqual(['a']); // one start, one result, whatever the attempts
    expect(rec.finished).toEqual([{ id: 'a', status: 'completed' }]);
  });

  it('retry: gives up after maxRetries with the last error', async () => {
    const f = failingTool();
    const { ctx } = makeCtx([f.tool], { errorPolicy: 'retry', retry: { maxRetries: 2, backoffBaseMs: 1, backoffFactor: 2 } });
    const [r] = await exec.execute([call('a', 'fail')], ctx);
    expect(r).toMatchObject({ status: 'error', error: 'boom', retries: 2 });
    expect(f.runs()).toBe(3);
  });

  it('retry: timeouts are retried too; validation errors are not', async () => {
    const h = hangingTool();
    const { ctx } = makeCtx([h.tool, failingTool().tool], {
      errorPolicy: 'retry',
      executionTimeoutMs: 20,
      retry: { maxRetries: 1, backoffBaseMs: 1, backoffFactor: 1 },
    });
    const [a, b] = await exec.execute([call('a', 'hang'), call('b', 'nope')], ctx);
    expect(a).toMatchObject({ status: 'timeout', retries: 1 });
    expect(h.signals).toHaveLength(2);
    expect(b).toMatchObject({ status: 'error', retries: 0 });
  });

  it('retry: the backoff wait is cut short by a run cancel', async () => {
    const f = failingTool();
    const ac = new AbortController();
    const { ctx } = makeCtx([f.tool], { errorPolicy: 'retry', retry: { maxRetries: 5, backoffBaseMs: 60_000, backoffFactor: 2 } }, ac.signal);
    const done = exec.execute([call('a', 'fail')], ctx);
    await until(() => f.runs() === 1);
    ac.abort();
    const [r] = await done;
    expect(r).toMatchObject({ status: 'cancelled', retries: 0 });
    expect(f.runs()).toBe(1);
  });
});

describe('DefaultToolExecutor: run cancel', () => {
  it('cancels running calls (even ones ignoring their signal) and unstarted ones, promptly', async () => {
    const h = hangingTool();
    const ac = new AbortController();
    const { ctx, rec } = makeCtx([h.tool], { maxParallelTools: 2 }, ac.signal);
    const done = exec.execute([call('a', 'hang'), call('b', 'hang'), call('c', 'hang')], ctx);
    await until(() => rec.started.length === 2);
    ac.abort();
    const rs = await done;
    expect(rs.map((r) => [r.id, r.status])).toEqual([
      ['a', 'cancelled'],
      ['b', 'cancelled'],
      ['c', 'cancelled'],
    ]);
    expect(h.signals.map((s) => s.aborted)).toEqual([true, true]);
    expect(rec.started).toEqual(['a', 'b']); // c never started
    expect(rec.finished).toHaveLength(3);
  });

  it('an already-aborted run signal cancels everything without running anything', async () => {
    const h = hangingTool();
    const ac = new AbortController();
    ac.abort();
    const { ctx, rec } = makeCtx([h.tool], {}, ac.signal);
    const rs = await exec.execute([call('a', 'hang'), call('b', 'nope')], ctx);
    expect(rs.map((r) => r.status)).toEqual(['cancelled', 'cancelled']);
    expect(h.signals).toHaveLength(0);
    expect(rec.started).toEqual([]);
  });

  it('a tool that resolves after a cancel has its late result dropped', async () => {
    const g = gatedTool();
    const ac = new AbortController();
    const { ctx, rec } = makeCtx([g.tool], {}, ac.signal);
    const done = exec.execute([call('a', 'gated', { i: 0 })], ctx);
    await until(() => g.pending.size === 1);
    ac.abort();
    const [r] = await done;
    g.pending.get(0)!();
    await new Promise((res) => setImmediate(res));
    expect(r).toMatchObject({ status: 'cancelled', result: null });
    expect(rec.finished).toEqual([{ id: 'a', status: 'cancelled' }]);
  });
});

import { describe, it, expect } from 'vitest';
import { z } from 'zod';
import { AuthorizingToolExecutor } from './authorizing-tool-executor';
import { DefaultToolExecutor } from './default-tool-executor';
import { defineTool } from './tool-definition';
import type { ToolCall, ToolExecutionContext, ToolExecutor, ToolResult } from './tool-executor';
import { call, echoTool, makeCtx } from './test-helpers';

function sideEffectTool() {
  let effects = 0;
  const tool = defineTool({
    name: 'delete_all',
    description: 'dangerous',
    schema: z.object({}),
    run: () => {
      effects++;
      return 'deleted';
    },
  });
  return { tool, effects: () => effects };
}

describe('AuthorizingToolExecutor', () => {
  it('a denied call never runs and gets `denied` with the reason', async () => {
    const s = sideEffectTool();
    const exec = new AuthorizingToolExecutor(new DefaultToolExecutor(), (_p, c) =>
      c.name === 'delete_all' ? { allow: false, reason: 'not for you' } : { allow: true },
    );
    const { ctx, rec } = makeCtx([s.tool, echoTool()]);
    const rs = await exec.execute([call('a', 'echo', { value: 1 }), call('b', 'delete_all'), call('c', 'echo', { value: 3 })], ctx);
    expect(s.effects()).toBe(0);
    expect(rs.map((r) => [r.id, r.status, r.error])).toEqual([
      ['a', 'completed', null],
      ['b', 'denied', 'not for you'],
      ['c', 'completed', null],
    ]);
    expect(rs[1]).toMatchObject({ result: null, truncated: false, retries: 0 });
    expect(rec.started).toEqual(['a', 'c']);
    expect(rec.finished.map((f) => f.id).sort()).toEqual(['a', 'b', 'c']);
  });

  it('decides per principal, may be async, and passes the call', async () => {
    const s = sideEffectTool();
    const seen: [string | null, string][] = [];
    const exec = new AuthorizingToolExecutor(new DefaultToolExecutor(), async (principal, c) => {
      seen.push([principal, c.id]);
      await new Promise((r) => setImmediate(r));
      return principal === 'admin' ? { allow: true } : { allow: false, reason: `${principal} may not` };
    });
    const alice = makeCtx([s.tool]).ctx;
    const admin: ToolExecutionContext = { ...makeCtx([s.tool]).ctx, principal: 'admin' };
    expect((await exec.execute([call('x', 'delete_all')], alice))[0]).toMatchObject({ status: 'denied', error: 'alice may not' });
    expect(s.effects()).toBe(0);
    expect((await exec.execute([call('y', 'delete_all')], admin))[0]).toMatchObject({ status: 'completed' });
    expect(s.effects()).toBe(1);
    expect(seen).toEqual([
      ['alice', 'x'],
      ['admin', 'y'],
    ]);
  });

  it('fails closed when authorize throws', async () => {
    const s = sideEffectTool();
    const exec = new AuthorizingToolExecutor(new DefaultToolExecutor(), () => {
      throw new Error('policy store down');
    });
    const { ctx } = makeCtx([s.tool]);
    const [r] = await exec.execute([call('a', 'delete_all')], ctx);
    expect(r).toMatchObject({ status: 'denied', error: 'authorization failed: policy store down' });
    expect(s.effects()).toBe(0);
  });

  it('does not call the inner executor when everything is denied, and keeps call order otherwise', async () => {
    const batches: string[][] = [];
    const inner: ToolExecutor = {
      async execute(calls: readonly ToolCall[]): Promise<ToolResult[]> {
        batches.push(calls.map((c) => c.id));
        // answers in reverse order: the wrapper must still return call order
        return [...calls].reverse().map((c) => ({ id: c.id, status: 'completed', result: c.id, error: null, durationMs: 0, truncated: false, retries: 0 }));
      },
    };
    const deny = new AuthorizingToolExecutor(inner, () => ({ allow: false, reason: 'no' }));
    const { ctx } = makeCtx([]);
    expect((await deny.execute([call('a', 't')], ctx)).map((r) => r.status)).toEqual(['denied']);
    expect(batches).toEqual([]);
    const some = new AuthorizingToolExecutor(inner, (_p, c) => (c.id === 'b' ? { allow: false, reason: 'no' } : { allow: true }));
    const rs = await some.execute([call('a', 't'), call('b', 't'), call('c', 't')], ctx);
    expect(batches).toEqual([['a', 'c']]);
    expect(rs.map((r) => [r.id, r.status])).toEqual([
      ['a', 'completed'],
      ['b', 'denied'],
      ['c', 'completed'],
    ]);
  });
});

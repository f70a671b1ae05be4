import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ToolLoopEngineBuilder, type ToolLoopEngineBuilderConfig } from './engine-builder';
import type { InferenceEvent } from './events';
import { Session } from './session';
import { collector, ScriptedEngine, type ScriptStep } from './testing/scripted-engine';
import { defineTool } from './tools/tool-definition';
import { ToolRegistry } from './tools/tool-registry';
import type { ToolUseBlock } from './turn';

const echo = defineTool({ name: 'echo', description: 'echo', schema: z.object({ v: z.string() }), run: ({ v }) => ({ v }) });
const boom = defineTool({ name: 'boom', description: 'throws', schema: z.object({}), run: () => { throw new Error('kaput'); } });
const hang = defineTool({ name: 'hang', description: 'never ends', schema: z.object({}), run: () => new Promise(() => {}) });
const big = defineTool({ name: 'big', description: 'huge result', schema: z.object({}), run: () => 'x'.repeat(5000) });

async function run(scripts: ScriptStep[][], cfg: Partial<ToolLoopEngineBuilderConfig> = {}) {
  const c = collector();
  const engine = new ScriptedEngine(scripts);
  const registry = cfg.registry ?? new ToolRegistry([echo, boom, hang, big]);
  const session = new Session('conv', new ToolLoopEngineBuilder({ engine, registry, sinks: [c.sink], ...cfg }));
  session.appendNewTurnFromUserPrompt('go');
  const outcome = await session.startInference().wait();
  const uses = outcome.turn.blocks.filter((b): b is ToolUseBlock => b.kind === 'tool_use');
  return { outcome, c, engine, uses, session };
}

const call = (name: string, args: unknown = {}): ScriptStep => ({ toolCall: { name, args } });

describe('tool loop', () => {
  it('runs tools and feeds the results back to the model; events in order', async () => {
    const { outcome, c, engine, uses } = await run([[{ text: 'Let me' }, call('echo', { v: 'hi' })], [{ text: 'Done' }]]);
    expect(outcome.status).toBe('completed');
    expect(engine.calls).toBe(2);
    expect(uses).toEqual([expect.objectContaining({ status: 'completed', result: { v: 'hi' }, error: null })]);
    // the second call saw the tool result
    expect(engine.seenTurns[1]!.blocks.map((b) => b.kind)).toEqual(['user', 'llm_text', 'tool_call', 'tool_use']);
    expect(c.types()).toEqual([
      'run-start', 'start', 'partial', 'tool-call', 'final',
      'tool-call-execute', 'tool-call-execution-result', 'tool-call-done',
      'start', 'partial', 'final', 'run-end',
    ]);
  });

  it('gives the model the right status for timeout, throw, invalid arguments, unknown tool and oversized result', async () => {
    const { outcome, uses } = await run(
      [[call('hang'), call('boom'), call('echo', { v: 3 }), call('nope'), call('big')], [{ text: 'ok' }]],
      { toolConfig: { executionTimeoutMs: 30, maxToolResultBytes: 1000 } },
    );
    expect(outcome.status).toBe('completed');
    expect(uses.map((u) => u.status)).toEqual(['timeout', 'error', 'error', 'error', 'completed']);
    expect(uses[1]!.error).toContain('kaput');
    expect(uses[2]!.error).toMatch(/invalid arguments/);
    expect(uses[3]!.error).toMatch(/tool not found: nope/);
    expect(uses[4]!.truncated).toBe(true);
    expect(Buffer.byteLength(String(uses[4]!.result))).toBeLessThanOrEqual(1000);
  });

  it('abort policy ends the run with run-end error tool_abort', async () => {
    const { outcome, c, engine } = await run([[call('boom'), call('echo', { v: 'a' })], [{ text: 'never' }]], { toolConfig: { errorPolicy: 'abort' } });
    expect(outcome).toMatchObject({ status: 'error', error: { code: 'tool_abort' } });
    expect(engine.calls).toBe(1);
    expect(c.events.filter((e) => e.type === 'run-end')).toHaveLength(1);
  });

  it('retry policy retries a failing tool', async () => {
    let n = 0;
    const flaky = defineTool({ name: 'flaky', description: 'fails twice', schema: z.object({}), run: () => { if (++n < 3) throw new Error(`fail ${n}`); return 'ok'; } });
    const { uses } = await run([[call('flaky')], [{ text: 'ok' }]], {
      registry: new ToolRegistry([flaky]),
      toolConfig: { errorPolicy: 'retry', retry: { maxRetries: 2, backoffBaseMs: 1, backoffFactor: 1 } },
    });
    expect(uses[0]).toMatchObject({ status: 'completed', result: 'ok' });
    expect(n).toBe(3);
  });

  it('maxIterations ends the run with run-end error max_iterations', async () => {
    const { outcome, engine, c } = await run([[call('echo', { v: 'again' })]], { maxIterations: 3 });
    expect(outcome).toMatchObject({ status: 'error', reason: 'error', error: { code: 'max_iterations' } });
    expect(engine.calls).toBe(3);
    expect(c.events.filter((e) => e.type === 'run-end')).toHaveLength(1);
  });

  it('runs at most 3 tools at once and keeps call order', async () => {
    let running = 0;
    let max = 0;
    const slow = defineTool({
      name: 'slow', description: 'waits', schema: z.object({ ms: z.number() }),
      run: async ({ ms }) => { running++; max = Math.max(max, running); await new Promise((r) => setTimeout(r, ms)); running--; return ms; },
    });
    const delays = [30, 5, 20, 1, 15, 2, 10, 3];
    const { uses } = await run([delays.map((ms) => call('slow', { ms })), [{ text: 'ok' }]], { registry: new ToolRegistry([slow]) });
    expect(max).toBe(3);
    expect(uses.map((u) => u.result)).toEqual(delays);
  });

  it('hooks: deny means the tool never runs and the model sees the denial; abort ends the run cancelled/pause_abort', async () => {
    let executed = 0;
    const side = defineTool({ name: 'side', description: 'side effect', schema: z.object({}), run: () => ++executed });
    const phases: string[] = [];
    const denied = await run([[call('side')], [{ text: 'ok' }]], {
      registry: new ToolRegistry([side]),
      approvalRequired: ['side'],
      hooks: {
        approval: (ctx) => { phases.push(`${ctx.phase}:${ctx.approvalCalls.length}`); return { action: 'deny' }; },
        afterInference: (ctx) => { phases.push(`${ctx.phase}:${ctx.approvalHandled}`); },
        afterTools: (ctx) => { phases.push(`${ctx.phase}:${ctx.results.map((r) => r.status).join()}`); },
      },
    });
    expect(executed).toBe(0);
    expect(phases).toEqual(['approval:1', 'after_inference:true', 'after_tools:denied']);
    expect(denied.uses[0]).toMatchObject({ status: 'denied', error: 'denied by operator' });
    expect(denied.engine.seenTurns[1]!.blocks.some((b) => b.kind === 'tool_use' && b.status === 'denied')).toBe(true);

    const aborted = await run([[{ text: 'x' }, call('side')], [{ text: 'never' }]], {
      registry: new ToolRegistry([side]),
      hooks: { afterInference: () => ({ action: 'abort' }) },
    });
    expect(executed).toBe(0);
    expect(aborted.outcome).toMatchObject({ status: 'cancelled', reason: 'pause_abort' });
    const ends = aborted.c.events.filter((e): e is Extract<InferenceEvent, { type: 'run-end' }> => e.type === 'run-end');
    expect(ends).toHaveLength(1);
    expect(aborted.uses.map((u) => u.status)).toEqual(['cancelled']);
  });

  it('snapshot hook sees every phase and the persister gets the final turn', async () => {
    const phases: string[] = [];
    const persisted: string[] = [];
    await run([[call('echo', { v: 'a' })], [{ text: 'ok' }]], {
      snapshotHook: (phase) => void phases.push(phase),
      persister: { persistTurn: (sid, t) => void persisted.push(`${sid}:${t.metadata.status}`) },
    });
    await new Promise((r) => setTimeout(r, 5));
    expect(phases).toEqual(['pre_inference', 'post_inference', 'post_tools', 'pre_inference', 'post_inference', 'final']);
    expect(persisted).toEqual(['conv:completed']);
  });
});

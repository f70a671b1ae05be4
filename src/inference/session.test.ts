import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ToolLoopEngineBuilder } from './engine-builder';
import { ProviderError, SessionAlreadyActiveError, SessionEmptyTurnError, SessionIdEmptyError } from './errors';
import type { InferenceEvent } from './events';
import { withEventSinks } from './event-sinks';
import { Session } from './session';
import { collector, deferred, ScriptedEngine, type ScriptStep } from './testing/scripted-engine';
import { defineTool } from './tools/tool-definition';
import { ToolRegistry } from './tools/tool-registry';
import { pendingToolCalls } from './turn';

function sessionWith(scripts: ScriptStep[][], extra: Partial<ConstructorParameters<typeof ToolLoopEngineBuilder>[0]> = {}) {
  const c = collector();
  const engine = new ScriptedEngine(scripts);
  const builder = new ToolLoopEngineBuilder({ engine, sinks: [c.sink], ...extra });
  return { session: new Session('conv-1', builder), c, engine };
}

const runEnds = (events: InferenceEvent[]) => events.filter((e) => e.type === 'run-end') as Extract<InferenceEvent, { type: 'run-end' }>[];

describe('Session', () => {
  it('appends a new turn per prompt with distinct ids and cumulative history', () => {
    const { session } = sessionWith([[{ text: 'hi' }]]);
    const t1 = session.appendNewTurnFromUserPrompt('one');
    const t2 = session.appendNewTurnFromUserPrompt('two');
    expect(t1.id).not.toBe(t2.id);
    expect(session.turns).toHaveLength(2);
    expect(t2.blocks.filter((b) => b.kind === 'user').map((b) => (b as { text: string }).text)).toEqual(['one', 'two']);
  });

  it('rejects an empty session id and an empty turn', () => {
    const { session } = sessionWith([[{ text: 'x' }]]);
    expect(() => new Session('', session.builder)).toThrow(SessionIdEmptyError);
    expect(() => session.startInference()).toThrow(SessionEmptyTurnError);
  });

  it('runs to completion: run-start … run-end completed, the result replaces the latest turn', async () => {
    const { session, c } = sessionWith([[{ text: 'Hello' }, { text: ' world' }]]);
    session.appendNewTurnFromUserPrompt('hi');
    const h = session.startInference();
    const o = await h.wait();
    expect(o.status).toBe('completed');
    expect(c.types()).toEqual(['run-start', 'start', 'partial', 'partial', 'final', 'run-end']);
    expect(session.turns).toHaveLength(1);
    expect(session.latest()!.blocks.map((b) => b.kind)).toEqual(['user', 'llm_text']);
    expect(session.latest()!.metadata).toMatchObject({ sessionId: 'conv-1', inferenceId: h.inferenceId, status: 'completed' });
    expect(o.usage).toEqual({ inputTokens: 10, outputTokens: 5, cachedTokens: 0 });
    expect(session.isRunning).toBe(false);
  });

  it('a second startInference while one is active rejects', async () => {
    const gate = deferred();
    const { session } = sessionWith([[{ wait: gate.promise }, { text: 'x' }]]);
    session.appendNewTurnFromUserPrompt('hi');
    const h = session.startInference();
    expect(() => session.startInference()).toThrow(SessionAlreadyActiveError);
    expect(() => session.appendNewTurnFromUserPrompt('again')).toThrow(SessionAlreadyActiveError);
    gate.resolve();
    await h.wait();
  });

  it('cancel returns without awaiting the runner: closing events + one run-end cancelled, slot free, fenced', async () => {
    const toolStarted = deferred();
    const toolRelease = deferred();
    const slowTool = defineTool({
      name: 'slow',
      description: 'ignores its signal',
      schema: z.object({}),
      run: async () => {
        toolStarted.resolve();
        await toolRelease.promise; // never looks at the signal
        // a tool that ignores its signal tries to publish afterwards: it must be dropped
        const { publishEvent } = await import('./event-sinks');
        const { createEvent } = await import('./events');
        publishEvent(createEvent('log', { sessionId: 'conv-1', inferenceId: 'x', turnId: 'x' }, { level: 'info', message: 'late', fields: null }));
        return { ok: true };
      },
    });
    const { session, c } = sessionWith(
      [[{ text: 'Calling' }, { toolCall: { name: 'slow', args: {} } }, { toolCall: { name: 'slow', args: {} } }], [{ text: 'never' }]],
      { registry: new ToolRegistry([slowTool]), toolConfig: { maxParallelTools: 1 } },
    );
    session.appendNewTurnFromUserPrompt('go');
    const h = session.startInference();
    await toolStarted.promise;
    const r = h.cancel();
    // synchronous effects, before any await:
    expect(r.status).toBe('cancelled');
    expect(session.isRunning).toBe(false);
    expect(h.isRunning).toBe(false);
    const types = c.types();
    expect(runEnds(c.events)).toHaveLength(1);
    expect(types[types.length - 1]).toBe('run-end');
    expect(runEnds(c.events)[0]).toMatchObject({ status: 'cancelled', reason: 'user_cancel' });
    // both tool calls are closed: result (cancelled) + done each
    const results = c.events.filter((e) => e.type === 'tool-call-execution-result') as Extract<InferenceEvent, { type: 'tool-call-execution-result' }>[];
    expect(results.map((e) => e.result.status)).toEqual(['cancelled', 'cancelled']);
    expect(c.events.filter((e) => e.type === 'tool-call-done')).toHaveLength(2);
    // the partial turn answers every tool call, so the next prompt's history is valid
    const partial = session.latest()!;
    expect(pendingToolCalls(partial)).toEqual([]);
    expect(partial.blocks.filter((b) => b.kind === 'tool_use').map((b) => (b as { status: string }).status)).toEqual(['cancelled', 'cancelled']);
    expect(partial.metadata.status).toBe('cancelled');
    // repeated cancel: same answer, nothing new
    const count = c.events.length;
    expect(h.cancel().status).toBe('already_finished');
    // the stuck tool finishes later: nothing of it is published
    toolRelease.resolve();
    await new Promise((res) => setTimeout(res, 20));
    expect(c.events.length).toBe(count);
    // the next prompt starts at once and sees a valid history
    session.appendNewTurnFromUserPrompt('next');
    const h2 = session.startInference();
    expect((await h2.wait()).status).toBe('completed');
  });

  it('cancel mid-stream closes the open message with the text so far and keeps it in the partial turn', async () => {
    const hold = deferred();
    const { session, c } = sessionWith([[{ text: 'partial ' }, { text: 'answer' }, { wait: hold.promise }, { text: 'never' }]]);
    session.appendNewTurnFromUserPrompt('hi');
    const h = session.startInference();
    await new Promise((r) => setTimeout(r, 5));
    h.cancel();
    const finals = c.events.filter((e) => e.type === 'final') as Extract<InferenceEvent, { type: 'final' }>[];
    expect(finals).toHaveLength(1);
    expect(finals[0]!.text).toBe('partial answer');
    expect(session.latest()!.blocks.find((b) => b.kind === 'llm_text')).toMatchObject({ text: 'partial answer' });
  });

  it('cancel racing natural completion yields exactly one run-end', async () => {
    for (let i = 0; i < 30; i++) {
      const { session, c } = sessionWith([[{ text: 'quick' }]]);
      session.appendNewTurnFromUserPrompt('hi');
      const h = session.startInference();
      // cancel at different points of the run, including after it completed
      for (let k = 0; k < i % 5; k++) await Promise.resolve();
      if (i % 3 === 0) await new Promise((r) => setImmediate(r));
      const r = h.cancel();
      const o = await h.wait();
      expect(runEnds(c.events)).toHaveLength(1);
      expect(r.outcome).toBe(o);
      expect(['cancelled', 'already_finished']).toContain(r.status);
      if (r.status === 'already_finished') expect(o.status).toBe('completed');
      else expect(o.status).toBe('cancelled');
    }
  });

  it('a provider error ends the run with run-end error and its code; the next prompt works', async () => {
    const { session, c } = sessionWith([
      [{ text: 'some' }, { throw: new ProviderError('provider_rate_limited', 'slow down', { status: 429 }) }],
      [{ text: 'fine' }],
    ]);
    session.appendNewTurnFromUserPrompt('hi');
    const o = await session.startInference().wait();
    expect(o).toMatchObject({ status: 'error', reason: 'error', error: { code: 'provider_rate_limited', message: 'slow down' } });
    expect(runEnds(c.events)).toHaveLength(1);
    // the open message was closed
    expect(c.types().filter((t) => t === 'final')).toHaveLength(1);
    session.appendNewTurnFromUserPrompt('again');
    expect((await session.startInference().wait()).status).toBe('completed');
  });

  it('100 concurrent sessions on one builder see only their own events', async () => {
    const perSession = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const c = collector();
        const engine = new ScriptedEngine([[{ text: `s${i} ` }, { wait: new Promise((r) => setTimeout(r, i % 4)) }, { text: 'done' }]]);
        const session = new Session(`conv-${i}`, new ToolLoopEngineBuilder({ engine }));
        session.appendNewTurnFromUserPrompt(`p${i}`);
        // sinks from the caller's async context reach only this session's events
        const o = await withEventSinks([c.sink], () => session.startInference().wait());
        return { i, c, o };
      }),
    );
    for (const { i, c, o } of perSession) {
      expect(o.status).toBe('completed');
      expect(new Set(c.events.map((e) => e.meta.sessionId))).toEqual(new Set([`conv-${i}`]));
      expect(c.types()).toEqual(['run-start', 'start', 'partial', 'partial', 'final', 'run-end']);
    }
  });
});

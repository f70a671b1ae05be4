import { describe, expect, it } from 'vitest';
import { ToolLoopEngineBuilder } from '../../inference/engine-builder';
import type { InferenceEvent } from '../../inference/events';
import { Session } from '../../inference/session';
import { collector } from '../../inference/testing/scripted-engine';
import { calcTool } from '../../inference/tools/builtin/calc';
import { ToolRegistry } from '../../inference/tools/tool-registry';
import { DemoEngine } from './demo-engine';
import { findArithmetic, planFor } from './demo-script';

function demoSession(id = 'demo-conv') {
  const c = collector();
  const builder = new ToolLoopEngineBuilder({ engine: new DemoEngine({ chunkDelayMs: 0 }), registry: new ToolRegistry([calcTool]), sinks: [c.sink] });
  return { session: new Session(id, builder), c };
}

async function ask(prompt: string) {
  const { session, c } = demoSession();
  session.appendNewTurnFromUserPrompt(prompt);
  const o = await session.startInference().wait();
  const finals = c.events.filter((e): e is Extract<InferenceEvent, { type: 'final' }> => e.type === 'final').map((e) => e.text);
  return { o, c, finals, session };
}

describe('demo script parsing', () => {
  it('recognises the prompt commands and arithmetic', () => {
    expect(planFor('/stream 10 0')).toEqual({ kind: 'stream', words: 10, delayMs: 0 });
    expect(planFor('/stream 5')).toEqual({ kind: 'stream', words: 5, delayMs: null });
    expect(planFor('/tools 3')).toEqual({ kind: 'tools', count: 3 });
    expect(planFor('/think')).toEqual({ kind: 'think' });
    expect(planFor('/error provider_rate_limited')).toEqual({ kind: 'error', code: 'provider_rate_limited' });
    expect(planFor('What is (4*5)-1?')).toEqual({ kind: 'calc', expression: '(4*5)-1' });
    expect(planFor('hello there')).toEqual({ kind: 'echo', prompt: 'hello there' });
    expect(findArithmetic('I have 3 apples')).toBeNull();
    expect(findArithmetic('2+3')).toBe('2+3');
  });

  it('/stamp (bench latency probes) exists only when the bench gate is on', () => {
    expect(planFor('/stamp 3 20')).toEqual({ kind: 'echo', prompt: '/stamp 3 20' });
    expect(planFor('/stamp 3 20', { bench: true })).toEqual({ kind: 'stamp', count: 3, delayMs: 20 });
  });
});

describe('demo engine', () => {
  it('arithmetic: one calc call, then "The answer is <n>."', async () => {
    const { o, c, finals } = await ask('What is (4*5)-1?');
    expect(o.status).toBe('completed');
    const calls = c.events.filter((e): e is Extract<InferenceEvent, { type: 'tool-call' }> => e.type === 'tool-call');
    expect(calls).toHaveLength(1);
    expect(calls[0]!.toolCall).toMatchObject({ name: 'calc', input: { expression: '(4*5)-1' } });
    expect(finals[finals.length - 1]).toBe('The answer is 19.');
  });

  it('/stream N streams exactly N words with contiguous offsets', async () => {
    const { c, finals } = await ask('/stream 200 0');
    const partials = c.events.filter((e): e is Extract<InferenceEvent, { type: 'partial' }> => e.type === 'partial');
    expect(partials).toHaveLength(200);
    let offset = 0;
    for (const p of partials) {
      expect(p.offset).toBe(offset);
      offset += p.delta.length;
    }
    expect(finals[0]!.split(' ')).toEqual(Array.from({ length: 200 }, (_, i) => `w${i + 1}`));
  });

  it('/tools K makes K parallel calc calls in one step, then a summary', async () => {
    const { c, finals } = await ask('/tools 4');
    expect(c.events.filter((e) => e.type === 'tool-call')).toHaveLength(4);
    expect(finals[finals.length - 1]).toBe('Computed 4 results: 1, 4, 9, 16.');
  });

  it('/think streams thinking before the answer', async () => {
    const { c } = await ask('/think');
    const t = c.types();
    expect(t.indexOf('thinking-start')).toBeGreaterThan(0);
    expect(t.indexOf('thinking-final')).toBeLessThan(t.indexOf('start'));
  });

  it('/error CODE streams three words then fails with that provider error', async () => {
    const { o, finals } = await ask('/error provider_rate_limited');
    expect(o).toMatchObject({ status: 'error', error: { code: 'provider_rate_limited' } });
    expect(finals).toEqual(['Something went wrong']);
  });

  it('anything else: a deterministic reply quoting the prompt verbatim', async () => {
    const a = await ask('<b>hi</b> & "quotes"');
    const b = await ask('<b>hi</b> & "quotes"');
    expect(a.finals[0]).toContain('<b>hi</b> & "quotes"');
    expect(a.finals).toEqual(b.finals);
  });

  it('a calc error reaches the model as a tool error', async () => {
    const { finals } = await ask('what is 1/0 + 2');
    expect(finals[finals.length - 1]).toMatch(/^I could not compute that: error/);
  });
});

describe('demo engine: concurrency', () => {
  it('100 concurrent sessions do not see each other\'s events', async () => {
    const results = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const c = collector();
        const builder = new ToolLoopEngineBuilder({
          engine: new DemoEngine({ chunkDelayMs: i % 3 }),
          registry: new ToolRegistry([calcTool]),
          sinks: [c.sink],
        });
        const session = new Session(`conv-${i}`, builder);
        session.appendNewTurnFromUserPrompt(i % 2 ? `What is ${i}+1?` : `/stream 20 ${i % 3}`);
        const o = await session.startInference().wait();
        return { i, c, o };
      }),
    );
    for (const { i, c, o } of results) {
      expect(o.status).toBe('completed');
      expect(new Set(c.events.map((e) => e.meta.sessionId))).toEqual(new Set([`conv-${i}`]));
      expect(new Set(c.events.map((e) => e.meta.inferenceId))).toEqual(new Set([o.inferenceId]));
      expect(c.types().filter((t) => t === 'run-end')).toHaveLength(1);
      const finals = c.events.filter((e): e is Extract<InferenceEvent, { type: 'final' }> => e.type === 'final').map((e) => e.text);
      if (i % 2) expect(finals[finals.length - 1]).toBe(`The answer is ${i + 1}.`);
      else expect(finals[0]!.split(' ')).toHaveLength(20);
    }
  });
});

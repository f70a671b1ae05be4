import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AbortedError } from '../../inference/errors';
import { blocks, newTurn, type ToolCallBlock, type Turn } from '../../inference/turn';
import { createEngine, type ProviderConfig } from '../index';
import { describeErrorConformance } from './conformance-errors';
import { describeStallConformance } from './conformance-stalls';
import { assertMessageInvariants, calcTool, ofType, runEngine, shape, TEST_API_KEY, TEST_TOOLS, timeTool } from './harness';
import { ReplayServer, type Fixture, type RecordedRequest } from './replay-server';
import type { ProviderWire, RequestSummary } from './wire';

const USAGE = { inputTokens: 42, outputTokens: 7, cachedTokens: 10 };

/** Shared set-up of a conformance suite: a replay server per test and engines pointed at it. */
export function useReplay(wire: ProviderWire) {
  const env = {
    server: null as unknown as ReplayServer,
    engine(extra: Partial<ProviderConfig> = {}) {
      return createEngine({
        provider: wire.provider, model: wire.model, apiKey: TEST_API_KEY, baseURL: wire.baseURL(env.server.url),
        retryBackoffMs: 1, ...extra,
      });
    },
    /** A fixture whose check runs the transport checks and then `check` on the request summary. */
    fixture(name: string, rest: Omit<Fixture, 'name' | 'check'>, check?: (s: RequestSummary, req: RecordedRequest) => void): Fixture {
      return {
        name, ...rest,
        check: (req) => {
          wire.checkTransport(req, TEST_API_KEY);
          const s = wire.summarize(req);
          expect(s.model).toBe(wire.model);
          expect(s.stream).toBe(true);
          check?.(s, req);
        },
      };
    },
  };
  beforeEach(async () => { env.server = await ReplayServer.start(); });
  afterEach(async () => {
    try { env.server.assertClean(); } finally { await env.server.close(); }
  });
  return env;
}

const expectedTools = TEST_TOOLS.map((t) => ({ name: t.name, description: t.description, schema: t.jsonSchema }));
const lastToolCalls = (t: Turn) => t.blocks.filter((b): b is ToolCallBlock => b.kind === 'tool_call');

/**
 * The behaviour every provider engine must show, run against the real SDK and a local server
 * replaying the provider's wire format.
 */
export function describeProviderConformance(wire: ProviderWire): void {
  describe(`${wire.provider}: conformance (real SDK, replayed wire)`, () => {
    const env = useReplay(wire);

    it('streams text: one start, partials with offsets, one final with usage', async () => {
      env.server.push(env.fixture('text', { chunks: wire.text(['Hel', 'lo', ' world'], USAGE) }, (s) => {
        expect(s.system).toBe('You are terse.');
        expect(s.messages).toEqual([{ role: 'user', text: 'Say hello' }]);
        expect(s.tools).toEqual(expectedTools);
      }));
      const turn = newTurn([blocks.system('You are terse.'), blocks.user('Say hello')]);
      const r = await runEngine(env.engine(), turn);
      expect(r.error).toBeNull();
      expect(shape(r.events)).toEqual(['start', 'partial', 'final']);
      expect(ofType(r.events, 'partial').map((p) => p.delta)).toEqual(['Hel', 'lo', ' world']);
      assertMessageInvariants(r.events, { final: true });
      const final = ofType(r.events, 'final')[0]!;
      expect(final.text).toBe('Hello world');
      expect(final.meta.usage).toEqual(USAGE);
      expect(final.meta.stopReason).toBe('stop');
      expect(r.turn!.blocks.slice(2)).toEqual([{ kind: 'llm_text', id: final.meta.messageId, text: 'Hello world' }]);
      expect(r.turn!.metadata).toMatchObject({ usage: USAGE, stopReason: 'stop', model: wire.model });
      expect(env.server.requests).toHaveLength(1);
    });

    it('settings from the run win over the constructor defaults', async () => {
      env.server.push(env.fixture('settings', { chunks: wire.text(['ok'], USAGE) }, (s) => {
        expect(s.temperature).toBe(wire.temperature ? 0.7 : null);
        expect(s.maxOutputTokens).toBe(321);
      }));
      const r = await runEngine(env.engine({ temperature: 0.2, maxOutputTokens: 321 }), newTurn([blocks.user('hi')]), { settings: { temperature: 0.7 } });
      expect(r.error).toBeNull();
    });

    it('tool round trip: the second request carries the call and its result', async () => {
      const pid = wire.callId(0);
      env.server.push(env.fixture('tool call', {
        chunks: wire.toolCalls([{ id: pid, name: 'calc', args: '{"expression":"2+3"}' }], { text: ['Let me ', 'compute.'], usage: USAGE }),
      }, (s) => {
        expect(s.messages).toEqual([{ role: 'user', text: 'What is 2+3?' }]);
        expect(s.tools).toEqual(expectedTools);
      }));
      const r1 = await runEngine(env.engine(), newTurn([blocks.system('Use tools.'), blocks.user('What is 2+3?')]));
      expect(r1.error).toBeNull();
      expect(shape(r1.events)).toEqual(['start', 'partial', 'tool-call', 'final']);
      assertMessageInvariants(r1.events, { final: true });
      const [call] = lastToolCalls(r1.turn!);
      expect(call).toMatchObject({ name: 'calc', args: { expression: '2+3' }, providerCallId: pid || null });
      if (pid) expect(call!.id).toBe(pid);
      else expect(call!.id).toMatch(/^call_[0-9a-f-]{36}$/);
      expect(ofType(r1.events, 'tool-call')[0]!.toolCall).toEqual({ id: call!.id, name: 'calc', input: { expression: '2+3' }, providerCallId: call!.providerCallId });
      expect(ofType(r1.events, 'final')[0]!.meta.stopReason).toBe('tool_calls');
      expect(r1.turn!.blocks.map((b) => b.kind)).toEqual(['system', 'user', 'llm_text', 'tool_call']);

      env.server.push(env.fixture('after tool', { chunks: wire.text(['The answer is 5.'], USAGE) }, (s) => {
        expect(s.system).toBe('Use tools.');
        expect(s.messages).toEqual([
          { role: 'user', text: 'What is 2+3?' },
          { role: 'assistant', text: 'Let me compute.', toolCalls: [{ id: pid || null, name: 'calc', args: { expression: '2+3' } }] },
          { role: 'tool', callId: pid || null, name: wire.provider === 'gemini' ? 'calc' : null, content: 5, isError: false },
        ]);
      }));
      const turn2 = { ...r1.turn!, blocks: [...r1.turn!.blocks, blocks.toolUse(call!.id, 'completed', 5, null)] };
      const r2 = await runEngine(env.engine(), turn2);
      expect(r2.error).toBeNull();
      expect(ofType(r2.events, 'final')[0]!.text).toBe('The answer is 5.');
      expect(env.server.requests).toHaveLength(2);
    });

    it('maps history: earlier answers, several tool results, error results', async () => {
      const [a, b] = [wire.callId(1), wire.callId(2)];
      const history = newTurn([
        blocks.system('S1'), blocks.system('S2'),
        blocks.user('first'), blocks.llmText('first answer'),
        blocks.user('compute'),
        blocks.toolCall('c1', 'calc', { expression: '1+1' }, a || null),
        blocks.toolCall('c2', 'get_time', { tz: 'UTC' }, b || null),
        blocks.toolUse('c1', 'completed', { value: 2 }, null),
        blocks.toolUse('c2', 'denied', null, 'denied by operator'),
        blocks.llmText('1+1 is 2; I may not read the time.'),
        blocks.user('thanks'),
      ]);
      env.server.push(env.fixture('history', { chunks: wire.text(['ok'], USAGE) }, (s) => {
        expect(s.system).toBe('S1\n\nS2');
        expect(s.messages).toEqual([
          { role: 'user', text: 'first' },
          { role: 'assistant', text: 'first answer', toolCalls: [] },
          { role: 'user', text: 'compute' },
          { role: 'assistant', text: '', toolCalls: [{ id: a || null, name: 'calc', args: { expression: '1+1' } }, { id: b || null, name: 'get_time', args: { tz: 'UTC' } }] },
          { role: 'tool', callId: a || null, name: wire.provider === 'gemini' ? 'calc' : null, content: { value: 2 }, isError: false },
          { role: 'tool', callId: b || null, name: wire.provider === 'gemini' ? 'get_time' : null, content: 'denied by operator', isError: true },
          { role: 'assistant', text: '1+1 is 2; I may not read the time.', toolCalls: [] },
          { role: 'user', text: 'thanks' },
        ]);
      }));
      const r = await runEngine(env.engine(), history);
      expect(r.error).toBeNull();
    });

    it('parallel tool calls: fragments merged per call, one tool-call event each', async () => {
      const calls = [
        { id: wire.callId(0), name: 'calc', args: '{"expression":"(4*5)-1"}' },
        { id: wire.callId(1), name: 'get_time', args: '{"tz":"Europe/Paris"}' },
      ];
      env.server.push(env.fixture('parallel', { chunks: wire.toolCalls(calls, { usage: USAGE }) }));
      const r = await runEngine(env.engine(), newTurn([blocks.user('both please')]));
      expect(r.error).toBeNull();
      assertMessageInvariants(r.events, { final: true });
      const events = ofType(r.events, 'tool-call').map((e) => e.toolCall);
      expect(events.map((c) => [c.name, c.input])).toEqual([['calc', { expression: '(4*5)-1' }], ['get_time', { tz: 'Europe/Paris' }]]);
      expect(new Set(events.map((c) => c.id)).size).toBe(2);
      expect(lastToolCalls(r.turn!).map((c) => c.id)).toEqual(events.map((c) => c.id));
      expect(r.turn!.blocks.map((b) => b.kind)).toEqual(['user', 'tool_call', 'tool_call']);
    });

    it('thinking streams as its own entity and becomes a reasoning block', async () => {
      env.server.push(env.fixture('thinking', { chunks: wire.thinking(['Let me', ' think.'], ['Hi', '!'], USAGE) }, (_s, req) => wire.checkThinkingRequest(req)));
      const r = await runEngine(env.engine({ thinking: { budgetTokens: 2048, effort: 'low' } }), newTurn([blocks.user('think first')]));
      expect(r.error).toBeNull();
      expect(shape(r.events)).toEqual(['thinking-start', 'partial-thinking', 'thinking-final', 'start', 'partial', 'final']);
      assertMessageInvariants(r.events, { final: true });
      expect(ofType(r.events, 'thinking-final')[0]!.text).toBe('Let me think.');
      const reasoning = r.turn!.blocks.find((b) => b.kind === 'reasoning');
      expect(reasoning).toMatchObject({ kind: 'reasoning', text: 'Let me think.' });
      expect(r.turn!.blocks.map((b) => b.kind)).toEqual(['user', 'reasoning', 'llm_text']);
    });

    it('duplicate or empty provider tool-call ids never give two calls the same id', async () => {
      const dup = wire.callId(0) || 'call_dup';
      const history = newTurn([
        blocks.user('earlier'), blocks.toolCall(dup, 'calc', { expression: '1' }, dup), blocks.toolUse(dup, 'completed', 1, null),
        blocks.llmText('1'), blocks.user('again, four times'),
      ]);
      const calls = [
        { id: dup, name: 'calc', args: '{"expression":"1+1"}' }, // repeats an id of the history
        { id: '', name: 'calc', args: '{"expression":"2+2"}' }, // empty
        { id: 'call_twice', name: 'calc', args: '{"expression":"3+3"}' },
        { id: 'call_twice', name: 'calc', args: '{"expression":"4+4"}' }, // repeated in the same message
      ];
      env.server.push(env.fixture('dup ids', { chunks: wire.toolCalls(calls, { usage: USAGE }) }));
      const r = await runEngine(env.engine(), history);
      expect(r.error).toBeNull();
      const got = ofType(r.events, 'tool-call').map((e) => e.toolCall);
      expect(got.map((c) => c.input)).toEqual(calls.map((c) => JSON.parse(c.args)));
      const ids = got.map((c) => c.id);
      expect(new Set([...ids, dup]).size).toBe(5);
      expect(got.map((c) => c.providerCallId)).toEqual([dup, null, 'call_twice', 'call_twice']);
      expect(ids[2]).toBe('call_twice');
      for (const i of [0, 1, 3]) expect(ids[i]).toMatch(/^call_[0-9a-f-]{36}$/);

      // Sent back, every call and result has an id of its own (a repeated provider id is replaced by ours).
      env.server.push(env.fixture('dup ids back', { chunks: wire.text(['done'], USAGE) }, (s) => {
        const sent = s.messages.flatMap((m) => (m.role === 'assistant' ? m.toolCalls.map((c) => c.id) : []));
        const answered = s.messages.flatMap((m) => (m.role === 'tool' ? [m.callId] : []));
        expect(sent).toEqual(answered);
        expect(new Set(sent).size).toBe(sent.length);
      }));
      const answered = got.reduce((t, c, i) => ({ ...t, blocks: [...t.blocks, blocks.toolUse(c.id, 'completed', i, null)] }), r.turn!);
      const r2 = await runEngine(env.engine(), answered);
      expect(r2.error).toBeNull();
    });

    if (wire.rawArgs) {
      it('unparsable tool arguments are kept raw under {_raw}', async () => {
        env.server.push(env.fixture('raw args', { chunks: wire.toolCalls([{ id: wire.callId(0), name: 'calc', args: '{"expression": 2+' }], { usage: USAGE }) }));
        const r = await runEngine(env.engine(), newTurn([blocks.user('x')]));
        expect(r.error).toBeNull();
        expect(ofType(r.events, 'tool-call')[0]!.toolCall.input).toEqual({ _raw: '{"expression": 2+' });
      });
    }

    it('abort mid-stream: AbortedError promptly, no final, no error log, the request torn down', async () => {
      env.server.push(env.fixture('hang', { chunks: wire.textPrefix(['Hel', 'lo']), then: 'hang' }));
      const r = await runEngine(env.engine(), newTurn([blocks.user('long story')]), {
        onEvent: (e, c) => { if (e.type === 'partial') c.abort(); },
      });
      expect(r.error).toBeInstanceOf(AbortedError);
      expect(ofType(r.events, 'final')).toHaveLength(0);
      expect(ofType(r.events, 'log')).toHaveLength(0);
      assertMessageInvariants(r.events, { final: false });
      await env.server.responseClosed(0); // the HTTP request is gone (the test would time out otherwise)
      expect(env.server.requests).toHaveLength(1);
    });

    it('abort before the call: AbortedError and no request', async () => {
      const c = new AbortController();
      c.abort();
      const r = await runEngine(env.engine(), newTurn([blocks.user('x')]), { controller: c });
      expect(r.error).toBeInstanceOf(AbortedError);
      expect(r.events).toHaveLength(0);
      expect(env.server.requests).toHaveLength(0);
    });

    describeErrorConformance(wire, env);
    describeStallConformance(wire, env);
  });
}

export { calcTool, timeTool };

/**
 * Issue 7, "per provider" and "duplicate or empty tool-call ids": the real server, the real SDK
 * engines, local replay servers in each provider's wire format. Every scenario runs on the four
 * providers and must give the same frame type sequence (ids, text and chunking aside).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EnvelopeSchema } from '../../src/protocol/frames';
import { ANTHROPIC_SIGNATURE } from '../../src/providers/testing/fixtures/anthropic';
import { GEMINI_SIGNATURE } from '../../src/providers/testing/fixtures/gemini';
import { RESPONSES_ENCRYPTED } from '../../src/providers/testing/fixtures/openai-responses';
import {
  assertNoSecrets, E2E, EXPECTED_TOOLS, fixture, joined, ofType, PROVIDERS, received, shapeOf, SYSTEM_PROMPT, USAGE,
  type E2EProvider, type Frame,
} from './harness';

const TWICE = { inputTokens: USAGE.inputTokens * 2, outputTokens: USAGE.outputTokens * 2, cachedTokens: USAGE.cachedTokens * 2 };

let e2e: E2E;
beforeAll(async () => { e2e = await E2E.start(); });
afterEach(() => e2e.assertReplaysClean());
afterAll(async () => {
  try {
    assertNoSecrets(received);
  } finally {
    await e2e?.close();
  }
});

/** Runs `scenario` on every provider (each in its own conversation); returns the shapes by provider. */
async function onEveryProvider(scenario: (p: E2EProvider) => Promise<Frame[]>): Promise<Record<string, string[]>> {
  e2e.mark();
  const shapes: Record<string, string[]> = {};
  await Promise.all(PROVIDERS.map(async (p) => { shapes[p.id] = shapeOf(await scenario(p)); }));
  return shapes;
}

/** The same sequence for all four. */
function expectSameShapes(shapes: Record<string, string[]>, expected: string[]): void {
  for (const p of PROVIDERS) expect(shapes[p.id], `${p.id} frame types`).toEqual(expected);
}

const toolResultOf = (p: E2EProvider, callId: string | null, content: unknown) =>
  ({ role: 'tool', callId, name: p.id === 'gemini' ? 'calc' : null, content, isError: false });

describe('per provider, through the server', () => {
  it('text: the same frames for every provider; usage in llm.final.metadata and run.end', async () => {
    const shapes = await onEveryProvider(async (p) => {
      e2e.replay(p).push(fixture(p, 'text', { chunks: p.wire.text(['Hel', 'lo', ' world'], USAGE) }, (s) => {
        expect(s.system).toBe(SYSTEM_PROMPT);
        expect(s.messages).toEqual([{ role: 'user', text: 'Say hello' }]);
        expect(s.tools).toEqual(EXPECTED_TOOLS);
      }));
      const c = await e2e.conversation();
      const { frames, end, started } = await e2e.run(c, 'Say hello', p.slug);
      expect(started.runtime_key).toBe(p.slug);
      expect(ofType(frames, 'run.start')[0]!.event.data.runtimeKey).toBe(p.slug);
      expect(joined(frames)).toBe('Hello world');
      const final = ofType(frames, 'llm.final')[0]!;
      expect(final.event.data.text).toBe('Hello world');
      expect(final.event.metadata).toMatchObject({ model: p.wire.model, stopReason: 'stop', usage: USAGE });
      expect(end.event.data).toMatchObject({ status: 'completed', reason: 'completed', error: null, usage: USAGE });
      // offsets are contiguous
      let offset = 0;
      for (const d of ofType(frames, 'llm.delta')) { expect(d.event.data.offset).toBe(offset); offset += d.event.data.delta.length; }
      expect(e2e.requestsSince(p)).toHaveLength(1);
      const tl = await e2e.timeline(c.convId);
      const assistant = tl.entities.find((x: any) => x.kind === 'message' && x.props.role === 'assistant');
      expect(assistant.props).toMatchObject({ content: 'Hello world', streaming: false });
      expect(tl.entities.find((x: any) => x.kind === 'run').props).toMatchObject({ status: 'completed', error: null });
      // the log over HTTP holds exactly the frames the socket got
      const log = await e2e.api.allEvents(c.convId);
      for (const f of log.frames) EnvelopeSchema.parse(f);
      expect(log.frames).toEqual(c.frames.filter((f) => f.event.seq !== null));
      c.assertValid();
      return frames;
    });
    expectSameShapes(shapes, ['chat.message', 'run.start', 'llm.start', 'llm.delta', 'llm.final', 'run.end']);
  });

  it('tool round trip: the model calls calc, the server runs it, the second request carries the result', async () => {
    const shapes = await onEveryProvider(async (p) => {
      const pid = p.wire.callId(0);
      e2e.replay(p).push(
        fixture(p, 'tool call', {
          chunks: p.wire.toolCalls([{ id: pid, name: 'calc', args: '{"expression":"2+3"}' }], { text: ['Let me ', 'compute.'], usage: USAGE }),
        }, (s) => {
          expect(s.messages).toEqual([{ role: 'user', text: 'What is 2+3?' }]);
          expect(s.tools).toEqual(EXPECTED_TOOLS);
        }),
        fixture(p, 'after tool', { chunks: p.wire.text(['The answer ', 'is 5.'], USAGE) }, (s, req) => {
          expect(s.system).toBe(SYSTEM_PROMPT);
          if (p.id === 'gemini') { // the function call goes back with its thought signature
            const call = req.body.contents.flatMap((x: any) => x.parts).find((x: any) => x.functionCall);
            expect(call.thoughtSignature).toBe(GEMINI_SIGNATURE);
          }
          expect(s.messages).toEqual([
            { role: 'user', text: 'What is 2+3?' },
            { role: 'assistant', text: 'Let me compute.', toolCalls: [{ id: pid || null, name: 'calc', args: { expression: '2+3' } }] },
            toolResultOf(p, pid || null, { expression: '2+3', result: 5 }),
          ]);
        }),
      );
      const c = await e2e.conversation();
      const { frames, end } = await e2e.run(c, 'What is 2+3?', p.slug);
      expect(e2e.requestsSince(p)).toHaveLength(2);
      const [start] = ofType(frames, 'tool.start');
      expect(start!.event.data).toMatchObject({ name: 'calc', input: { expression: '2+3' }, providerCallId: pid || null });
      expect(ofType(frames, 'tool.result')[0]!.event.data).toMatchObject({ id: start!.event.id, status: 'completed', result: { expression: '2+3', result: 5 }, error: null });
      expect(ofType(frames, 'llm.final').map((f) => f.event.data.text)).toEqual(['Let me compute.', 'The answer is 5.']);
      expect(ofType(frames, 'llm.final').map((f) => f.event.metadata.stopReason)).toEqual(['tool_calls', 'stop']);
      expect(ofType(frames, 'llm.final').map((f) => f.event.metadata.usage)).toEqual([USAGE, USAGE]);
      expect(end.event.data).toMatchObject({ status: 'completed', error: null, usage: TWICE });
      const tl = await e2e.timeline(c.convId);
      expect(tl.entities.filter((x: any) => x.kind === 'tool_call').map((x: any) => [x.id, x.props.status, x.props.done])).toEqual([[start!.event.id, 'completed', true]]);
      c.assertValid();
      return frames;
    });
    expectSameShapes(shapes, [
      'chat.message', 'run.start',
      'llm.start', 'llm.delta', 'tool.start', 'llm.final',
      'tool.delta', 'tool.result', 'tool.done',
      'llm.start', 'llm.delta', 'llm.final',
      'run.end',
    ]);
  });

  it('parallel tool calls: two cards, both executed, both results in the next request', async () => {
    const shapes = await onEveryProvider(async (p) => {
      const [a, b] = [p.wire.callId(0), p.wire.callId(1)];
      e2e.replay(p).push(
        fixture(p, 'parallel', {
          chunks: p.wire.toolCalls([
            { id: a, name: 'calc', args: '{"expression":"(4*5)-1"}' },
            { id: b, name: 'calc', args: '{"expression":"2^10"}' },
          ], { usage: USAGE }),
        }),
        fixture(p, 'after parallel', { chunks: p.wire.text(['19 and 1024.'], USAGE) }, (s) => {
          expect(s.messages).toEqual([
            { role: 'user', text: 'Compute both' },
            { role: 'assistant', text: '', toolCalls: [{ id: a || null, name: 'calc', args: { expression: '(4*5)-1' } }, { id: b || null, name: 'calc', args: { expression: '2^10' } }] },
            toolResultOf(p, a || null, { expression: '(4*5)-1', result: 19 }),
            toolResultOf(p, b || null, { expression: '2^10', result: 1024 }),
          ]);
        }),
      );
      const c = await e2e.conversation();
      const { frames, end } = await e2e.run(c, 'Compute both', p.slug);
      const starts = ofType(frames, 'tool.start').map((f) => f.event.data);
      expect(starts.map((s) => s.input)).toEqual([{ expression: '(4*5)-1' }, { expression: '2^10' }]);
      expect(new Set(starts.map((s) => s.id)).size).toBe(2);
      expect(ofType(frames, 'tool.result').map((f) => f.event.data.result.result).sort((x, y) => x - y)).toEqual([19, 1024]);
      expect(end.event.data).toMatchObject({ status: 'completed', usage: TWICE });
      c.assertValid();
      return frames;
    });
    for (const p of PROVIDERS) {
      const s = shapes[p.id]!;
      // no text in the first message: start → two tool cards → final
      expect(s.slice(0, 6)).toEqual(['chat.message', 'run.start', 'llm.start', 'tool.start', 'tool.start', 'llm.final']);
      expect(s.filter((t) => t.startsWith('tool.')).sort()).toEqual(['tool.delta', 'tool.delta', 'tool.done', 'tool.done', 'tool.result', 'tool.result', 'tool.start', 'tool.start']);
      expect(s.slice(-4)).toEqual(['llm.start', 'llm.delta', 'llm.final', 'run.end']);
    }
    // Identical across providers up to the interleaving of the two executions.
    const canon = (s: string[]) => [...s.slice(0, 6), ...s.slice(6, -4).sort(), ...s.slice(-4)];
    for (const p of PROVIDERS) expect(canon(shapes[p.id]!)).toEqual(canon(shapes[PROVIDERS[0]!.id]!));
  });

  it('thinking: a thinking entity before the answer, the same frames for every provider', async () => {
    const shapes = await onEveryProvider(async (p) => {
      e2e.replay(p).push(fixture(p, 'thinking', { chunks: p.wire.thinking(['Let me', ' think.'], ['Hi', '!'], USAGE) }));
      const c = await e2e.conversation();
      const { frames, end } = await e2e.run(c, 'Think first', p.slug);
      expect(joined(frames, 'llm.thinking.delta')).toBe('Let me think.');
      expect(ofType(frames, 'llm.thinking.final')[0]!.event.data.text).toBe('Let me think.');
      expect(ofType(frames, 'llm.final')[0]!.event.data.text).toBe('Hi!');
      expect(ofType(frames, 'llm.final')[0]!.event.metadata.usage).toEqual(USAGE);
      expect(end.event.data).toMatchObject({ status: 'completed', usage: USAGE });
      const msgId = ofType(frames, 'llm.start')[0]!.event.id;
      expect(ofType(frames, 'llm.thinking.start')[0]!.event.id).toBe(`${msgId}:thinking`);
      const tl = await e2e.timeline(c.convId);
      expect(tl.entities.filter((x: any) => x.kind === 'message').map((x: any) => [x.props.role, x.props.content]))
        .toEqual([['user', 'Think first'], ['thinking', 'Let me think.'], ['assistant', 'Hi!']]);

      // The next request carries the answer, and the reasoning where the provider wants it back.
      e2e.replay(p).push(fixture(p, 'after thinking', { chunks: p.wire.text(['ok'], USAGE) }, (s, req) => {
        expect(s.messages).toEqual([{ role: 'user', text: 'Think first' }, { role: 'assistant', text: 'Hi!', toolCalls: [] }, { role: 'user', text: 'And now?' }]);
        if (p.id === 'anthropic') expect(req.body.messages[1].content[0]).toEqual({ type: 'thinking', thinking: 'Let me think.', signature: ANTHROPIC_SIGNATURE });
        if (p.id === 'openai-responses') expect(req.body.input.find((x: any) => x.type === 'reasoning')).toMatchObject({ encrypted_content: RESPONSES_ENCRYPTED });
      }));
      expect((await e2e.run(c, 'And now?', p.slug)).end.event.data.status).toBe('completed');
      c.assertValid();
      return frames;
    });
    expectSameShapes(shapes, [
      'chat.message', 'run.start',
      'llm.thinking.start', 'llm.thinking.delta', 'llm.thinking.final',
      'llm.start', 'llm.delta', 'llm.final',
      'run.end',
    ]);
  });

  it('duplicate or empty provider tool-call ids: distinct tool cards, each answered under its own id', async () => {
    const shapes = await onEveryProvider(async (p) => {
      const calls = [
        { id: 'call_twice', name: 'calc', args: '{"expression":"1+1"}' },
        { id: 'call_twice', name: 'calc', args: '{"expression":"2+2"}' }, // repeated in the same message
        { id: '', name: 'calc', args: '{"expression":"3+3"}' }, // empty
      ];
      e2e.replay(p).push(
        fixture(p, 'dup ids', { chunks: p.wire.toolCalls(calls, { usage: USAGE }) }),
        fixture(p, 'dup ids back', { chunks: p.wire.text(['2, 4, 6'], USAGE) }, (s) => {
          const sent = s.messages.flatMap((m) => (m.role === 'assistant' ? m.toolCalls.map((x) => x.id) : []));
          const answered = s.messages.flatMap((m) => (m.role === 'tool' ? [m.callId] : []));
          expect(sent).toHaveLength(3);
          expect(answered).toEqual(sent);
          expect(new Set(sent).size).toBe(3);
          expect(s.messages.filter((m) => m.role === 'tool').map((m) => (m as { content: any }).content.result)).toEqual([2, 4, 6]);
        }),
      );
      const c = await e2e.conversation();
      const { frames, end } = await e2e.run(c, 'Three sums', p.slug);
      expect(end.event.data.status).toBe('completed');
      const starts = ofType(frames, 'tool.start');
      expect(starts).toHaveLength(3);
      const ids = starts.map((f) => f.event.data.id);
      expect(new Set(ids).size).toBe(3);
      expect(starts.map((f) => f.event.id)).toEqual(ids);
      expect(starts.map((f) => f.event.data.input.expression)).toEqual(['1+1', '2+2', '3+3']);
      expect(starts.map((f) => f.event.data.providerCallId)).toEqual(['call_twice', 'call_twice', null]);
      const results = ofType(frames, 'tool.result');
      expect(new Set(results.map((f) => f.event.data.id))).toEqual(new Set(ids));
      const tl = await e2e.timeline(c.convId);
      const cards = tl.entities.filter((x: any) => x.kind === 'tool_call');
      expect(cards.map((x: any) => x.id)).toEqual(ids);
      expect(cards.map((x: any) => [x.props.input.expression, x.props.status, x.props.done])).toEqual([['1+1', 'completed', true], ['2+2', 'completed', true], ['3+3', 'completed', true]]);
      expect(tl.entities.filter((x: any) => x.kind === 'tool_result').map((x: any) => x.props.result.result).sort()).toEqual([2, 4, 6]);
      c.assertValid();
      return frames.filter((f) => !f.event.type.startsWith('tool.') || f.event.type === 'tool.start');
    });
    expectSameShapes(shapes, ['chat.message', 'run.start', 'llm.start', 'tool.start', 'tool.start', 'tool.start', 'llm.final', 'llm.start', 'llm.delta', 'llm.final', 'run.end']);
  });
});

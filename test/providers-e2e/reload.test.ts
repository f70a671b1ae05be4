/**
 * History survives a restart: a conversation's thinking and tool calls are stored, and after the
 * server restarts on the same database the next request to the provider carries them back as the
 * provider needs them — the provider's own tool-call ids, Anthropic's thinking signature, the
 * Responses encrypted reasoning, Gemini's thought signature.
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { ANTHROPIC_SIGNATURE } from '../../src/providers/testing/fixtures/anthropic';
import { GEMINI_SIGNATURE } from '../../src/providers/testing/fixtures/gemini';
import { RESPONSES_ENCRYPTED } from '../../src/providers/testing/fixtures/openai-responses';
import { assertNoSecrets, E2E, fixture, PROVIDERS, received, USAGE, type E2EProvider, type FrameClient } from './harness';

let e2e: E2E;
beforeAll(async () => { e2e = await E2E.start({ persistent: true }); });
afterEach(() => e2e.assertReplaysClean());
afterAll(async () => {
  try {
    assertNoSecrets(received);
  } finally {
    await e2e?.close();
  }
});

const toolResult = (p: E2EProvider, callId: string | null) =>
  ({ role: 'tool', callId, name: p.id === 'gemini' ? 'calc' : null, content: { expression: '2+3', result: 5 }, isError: false });

it('after a restart, the next request carries the stored history in each provider\'s terms', async () => {
  const convs = new Map<string, FrameClient>();
  await Promise.all(PROVIDERS.map(async (p) => {
    const pid = p.wire.callId(0);
    e2e.replay(p).push(
      fixture(p, 'thinking', { chunks: p.wire.thinking(['Let me', ' think.'], ['Hi', '!'], USAGE) }),
      fixture(p, 'tool call', { chunks: p.wire.toolCalls([{ id: pid, name: 'calc', args: '{"expression":"2+3"}' }], { text: ['Let me ', 'compute.'], usage: USAGE }) }),
      fixture(p, 'after tool', { chunks: p.wire.text(['It is 5.'], USAGE) }),
    );
    const c = await e2e.conversation();
    convs.set(p.id, c);
    expect((await e2e.run(c, 'Think first', p.slug)).end.event.data.status).toBe('completed');
    expect((await e2e.run(c, 'What is 2+3?', p.slug)).end.event.data.status).toBe('completed');
  }));

  await e2e.restart();

  await Promise.all(PROVIDERS.map(async (p) => {
    const pid = p.wire.callId(0);
    e2e.replay(p).push(fixture(p, 'after restart', { chunks: p.wire.text(['Still here.'], USAGE) }, (s, req) => {
      expect(s.messages).toEqual([
        { role: 'user', text: 'Think first' },
        { role: 'assistant', text: 'Hi!', toolCalls: [] },
        { role: 'user', text: 'What is 2+3?' },
        { role: 'assistant', text: 'Let me compute.', toolCalls: [{ id: pid || null, name: 'calc', args: { expression: '2+3' } }] },
        toolResult(p, pid || null),
        { role: 'assistant', text: 'It is 5.', toolCalls: [] },
        { role: 'user', text: 'After the restart' },
      ]);
      if (p.id === 'anthropic') expect(req.body.messages[1].content[0]).toEqual({ type: 'thinking', thinking: 'Let me think.', signature: ANTHROPIC_SIGNATURE });
      if (p.id === 'openai-responses') expect(req.body.input.filter((x: any) => x.type === 'reasoning').map((x: any) => x.encrypted_content)).toEqual([RESPONSES_ENCRYPTED]);
      if (p.id === 'gemini') {
        const call = req.body.contents.flatMap((x: any) => x.parts).find((x: any) => x.functionCall);
        expect(call.thoughtSignature).toBe(GEMINI_SIGNATURE);
      }
    }));
    const c = await e2e.socket(convs.get(p.id)!.convId);
    const { end } = await e2e.run(c, 'After the restart', p.slug);
    expect(end.event.data).toMatchObject({ status: 'completed', error: null });
    c.assertValid();
  }));
});

/**
 * Issue 7, "profile change mid-conversation rebuilds for the next run, keeps history, leaves the
 * running run alone": run 1 streams slowly on profile A (OpenAI, a held replay server); prompt 2
 * on profile B (Anthropic) is queued meanwhile; run 1 finishes on A, run 2 runs on B with run 1's
 * history. Then the `chat_profile` cookie picks the profile of a prompt without `runtime_key`.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { assertNoSecrets, E2E, fixture, joined, ofType, profileFor, provider, received, SYSTEM_PROMPT, USAGE } from './harness';
import { HeldReplayServer } from './held-replay';

const SLOW = 'e2e-slow-openai';
const openai = provider('openai');
const anthropic = provider('anthropic');
const gemini = provider('gemini');

let e2e: E2E;
let slow: HeldReplayServer;
beforeAll(async () => {
  slow = await HeldReplayServer.start();
  e2e = await E2E.start({ profiles: () => [{ ...profileFor(openai, slow.url), slug: SLOW, display_name: 'Slow OpenAI' }] });
});
afterAll(async () => {
  try {
    assertNoSecrets(received);
  } finally {
    await e2e?.close();
    await slow?.close();
  }
});

it('a prompt on another profile waits for the running run, which finishes untouched; the next run gets the history', async () => {
  e2e.mark();
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const pid = openai.wire.callId(0);
  slow.push(
    { ...fixture(openai, 'A: tool call, held mid-stream', {
      chunks: openai.wire.toolCalls([{ id: pid, name: 'calc', args: '{"expression":"6*7"}' }], { text: ['Working ', 'on it.'], usage: USAGE }),
    }, (s) => expect(s.messages).toEqual([{ role: 'user', text: 'First question' }])), holdAfter: 2, release: released },
    fixture(openai, 'A: after the tool', { chunks: openai.wire.text(['It is ', '42.'], USAGE) }, (s) => {
      expect(s.messages).toEqual([
        { role: 'user', text: 'First question' },
        { role: 'assistant', text: 'Working on it.', toolCalls: [{ id: pid, name: 'calc', args: { expression: '6*7' } }] },
        { role: 'tool', callId: pid, name: null, content: { expression: '6*7', result: 42 }, isError: false },
      ]);
    }),
  );
  const run1History = [
    { role: 'user', text: 'First question' },
    { role: 'assistant', text: 'Working on it.', toolCalls: [{ id: pid, name: 'calc', args: { expression: '6*7' } }] },
    { role: 'tool', callId: pid, name: null, content: { expression: '6*7', result: 42 }, isError: false },
    { role: 'assistant', text: 'It is 42.', toolCalls: [] },
  ];
  e2e.replay(anthropic).push(fixture(anthropic, 'B: second prompt with run 1 history', { chunks: anthropic.wire.text(['From B.'], USAGE) }, (s) => {
    expect(s.system).toBe(SYSTEM_PROMPT);
    expect(s.messages).toEqual([...run1History, { role: 'user', text: 'Second question' }]);
  }));

  const c = await e2e.conversation();
  const r1 = await e2e.start(c, 'First question', SLOW);
  expect(r1.runtime_key).toBe(SLOW);
  await slow.whenHeld(0);
  await c.waitFor((f) => joined(f.filter((x) => x.event.seq! > r1.seq)) === 'Working ', 'run 1 streaming');

  const q = await e2e.api.chat({ prompt: 'Second question', conv_id: c.convId, runtime_key: anthropic.slug });
  expect(q.status, q.text).toBe(202);
  expect(q.json).toMatchObject({ status: 'queued', runtime_key: anthropic.slug, queue_position: 1 });
  const state = await e2e.api.conversation(c.convId);
  expect(state.json.running.inference_id).toBe(r1.inference_id);
  expect(state.json.queue.map((x: any) => x.turn_id)).toEqual([q.json.turn_id]);
  expect(e2e.requestsSince(anthropic)).toHaveLength(0);

  release();
  const end1 = await c.runEnd(r1.inference_id);
  const frames1 = c.between(r1.seq, end1.event.seq!);
  expect(end1.event.data).toMatchObject({ status: 'completed', reason: 'completed', error: null, usage: { inputTokens: 84, outputTokens: 14, cachedTokens: 20 } });
  expect(ofType(frames1, 'run.start')[0]!.event.data.runtimeKey).toBe(SLOW);
  expect(ofType(frames1, 'llm.final').map((f) => [f.event.data.text, f.event.metadata.model])).toEqual([['Working on it.', openai.wire.model], ['It is 42.', openai.wire.model]]);
  expect(slow.requests).toHaveLength(2); // every request of run 1 went to A

  const start2 = await c.waitFor((f) => f.find((x) => x.event.type === 'run.start' && x.event.data.turnId === q.json.turn_id), 'run 2 start');
  expect(start2.event.seq!).toBeGreaterThan(end1.event.seq!);
  expect(start2.event.data.runtimeKey).toBe(anthropic.slug);
  const end2 = await c.runEnd(start2.event.data.inferenceId);
  expect(end2.event.data).toMatchObject({ status: 'completed', error: null, usage: USAGE });
  const frames2 = c.between(start2.event.seq!, end2.event.seq!);
  expect(ofType(frames2, 'llm.final').map((f) => [f.event.data.text, f.event.metadata.model])).toEqual([['From B.', anthropic.wire.model]]);
  expect(e2e.requestsSince(anthropic)).toHaveLength(1);
  expect(slow.requests).toHaveLength(2);
  expect((await e2e.api.conversation(c.convId)).json.runtime_key).toBe(anthropic.slug);

  // The cookie profile: POST /api/chat/profile, then /chat without runtime_key uses it.
  const sel = await e2e.api.post('/api/chat/profile', { slug: gemini.slug });
  expect(sel.status, sel.text).toBe(200);
  expect(sel.json).toEqual({ slug: gemini.slug });
  const setCookie = sel.headers.get('set-cookie')!;
  expect(setCookie).toMatch(new RegExp(`^chat_profile=${gemini.slug};`));
  const cookie = setCookie.split(';')[0]!;
  expect((await e2e.api.get('/api/chat/profile', { cookie })).json).toEqual({ slug: gemini.slug });
  expect((await e2e.api.get('/api/chat/profile')).json).toEqual({ slug: 'demo' });

  e2e.replay(gemini).push(fixture(gemini, 'cookie profile with the whole history', { chunks: gemini.wire.text(['From C.'], USAGE) }, (s) => {
    expect(s.system).toBe(SYSTEM_PROMPT);
    const texts = s.messages.map((m) => (m.role === 'tool' ? ['tool', m.content] : [m.role, m.text]));
    expect(texts).toEqual([
      ['user', 'First question'], ['assistant', 'Working on it.'], ['tool', { expression: '6*7', result: 42 }], ['assistant', 'It is 42.'],
      ['user', 'Second question'], ['assistant', 'From B.'], ['user', 'Third question'],
    ]);
  }));
  const r3 = await e2e.run(c, 'Third question', undefined, { cookie });
  expect(r3.started.runtime_key).toBe(gemini.slug);
  expect(ofType(r3.frames, 'run.start')[0]!.event.data.runtimeKey).toBe(gemini.slug);
  expect(r3.end.event.data).toMatchObject({ status: 'completed', error: null });
  expect(ofType(r3.frames, 'llm.final')[0]!.event.data.text).toBe('From C.');
  expect(e2e.requestsSince(gemini)).toHaveLength(1);

  // A stale cookie (unknown slug) falls back to the default: demo, offline.
  const r4 = await e2e.run(c, 'Fourth question', undefined, { cookie: 'chat_profile=no-such-profile' });
  expect(r4.started.runtime_key).toBe('demo');
  expect(r4.end.event.data.status).toBe('completed');

  c.assertValid();
  slow.assertClean();
  expect(slow.pending).toBe(0);
  e2e.assertReplaysClean();
});

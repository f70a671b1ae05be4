/**
 * Issue 21 item 4, a stalled provider, through the real server and SDKs: a provider that never
 * sends response headers, or sends one chunk and stalls, ends the run `run.end error
 * provider_stream` after the profile's `first_byte_timeout_ms` / `idle_timeout_ms` (small here);
 * a stall before content is retried like other stream errors, one after content is final and the
 * partial answer is closed; the stalled requests are torn down; the next prompt on the same
 * conversation runs to completion.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  assertNoSecrets, E2E, fixture, joined, ofType, profileFor, PROVIDERS, received, shapeOf, USAGE, type E2EProvider, type FrameClient,
} from './harness';

/** The timeout under test is small; the other one is generous, so a slow machine cannot trip it. */
const STALL_MS = 300;
type Kind = 'first-byte' | 'idle';
const stallSlug = (p: E2EProvider, kind: Kind) => `${p.slug}-${kind}`;

let e2e: E2E;
beforeAll(async () => {
  e2e = await E2E.start({
    profiles: (replays) => PROVIDERS.flatMap((p) => [
      { ...profileFor(p, replays[p.id].url, { first_byte_timeout_ms: STALL_MS, idle_timeout_ms: 30_000 }), slug: stallSlug(p, 'first-byte') },
      { ...profileFor(p, replays[p.id].url, { first_byte_timeout_ms: 30_000, idle_timeout_ms: STALL_MS }), slug: stallSlug(p, 'idle') },
    ]),
  });
  // One healthy prompt per provider first, so no one-time start-up cost lands inside a small limit.
  await Promise.all(PROVIDERS.map(async (p) => {
    e2e.replay(p).push(fixture(p, 'warm-up', { chunks: p.wire.text(['warm'], USAGE) }));
    const { end } = await e2e.run(await e2e.conversation(), 'warm up', p.slug);
    expect(end.event.data.status).toBe('completed');
  }));
});
afterEach(() => e2e.assertReplaysClean());
afterAll(async () => {
  try {
    assertNoSecrets(received);
  } finally {
    await e2e?.close();
  }
});

/** Every request the provider got since `mark()` is closed (the test would time out otherwise). */
const tornDown = (p: E2EProvider) => Promise.all(e2e.requestsSince(p).map((r) => e2e.replay(p).responseClosed(r.index)));

/**
 * The next prompt on the conversation (same profile) completes; its request carries the partial
 * answer if one was shown. It lives under the same small limit, so on a badly overloaded machine
 * its first attempt may time out too: a spare answer per retry keeps the outcome what is tested.
 */
async function nextPromptCompletes(p: E2EProvider, kind: Kind, c: FrameClient, partial: string | null): Promise<void> {
  for (let i = 0; i < 3; i++) {
    e2e.replay(p).push(fixture(p, `after the stall #${i}`, { chunks: p.wire.text(['Fine.'], USAGE) }, (s) => {
      // (providers that need alternating roles get 'hi' and 'Again please' as one user message)
      expect(s.messages.at(-1)).toMatchObject({ role: 'user', text: expect.stringMatching(/Again please$/) });
      const answers = s.messages.filter((m) => m.role === 'assistant').map((m) => (m as { text: string }).text);
      expect(answers).toEqual(partial === null ? [] : [partial]);
    }));
  }
  const next = await e2e.run(c, 'Again please', stallSlug(p, kind));
  expect(next.end.event.data, p.id).toMatchObject({ status: 'completed', error: null, usage: USAGE });
  expect(ofType(next.frames, 'llm.final').map((f) => f.event.data.text)).toEqual(['Fine.']);
  e2e.replay(p).discardPending();
}

describe('a stalled provider through the server', () => {
  it('never sends response headers → run.end error provider_stream (first-byte timeout) after the retries; the next prompt runs', async () => {
    e2e.mark();
    const shapes: string[][] = [];
    await Promise.all(PROVIDERS.map(async (p) => {
      for (let i = 0; i < 3; i++) e2e.replay(p).push(fixture(p, `silent #${i}`, { silent: true }));
      const c = await e2e.conversation();
      const { frames, end } = await e2e.run(c, 'hi', stallSlug(p, 'first-byte'));
      shapes.push(shapeOf(frames));
      expect(end.event.data, p.id).toMatchObject({ status: 'error', reason: 'error', error: { code: 'provider_stream' } });
      expect(end.event.data.error.message).toMatch(new RegExp(`nothing for ${STALL_MS} ms after the request \\(first_byte_timeout_ms\\)`));
      // Retried before content, as any stream error (max 2 retries): three attempts, the logs say so. On a very
      // slow machine a retry may give up before its request arrives, so the provider saw 1 to 3 of them.
      const logs = ofType(frames, 'log').map((f) => f.event.data);
      expect(logs.map((l) => [l.level, l.fields.code])).toEqual([['warn', 'provider_stream'], ['warn', 'provider_stream'], ['error', 'provider_stream']]);
      expect(logs[2].fields.attempts).toBe(3);
      expect(e2e.requestsSince(p).length).toBeGreaterThanOrEqual(1);
      expect(e2e.requestsSince(p).length).toBeLessThanOrEqual(3);
      expect(ofType(frames, 'llm.start')).toHaveLength(0); // no ghost message
      await tornDown(p);
      e2e.replay(p).discardPending();
      const tl = await e2e.timeline(c.convId);
      expect(tl.entities.find((x: any) => x.kind === 'run').props).toMatchObject({ status: 'error', error: { code: 'provider_stream' } });
      expect(tl.conversation.running).toBeNull();

      await nextPromptCompletes(p, 'first-byte', c, null);
      c.assertValid();
    }));
    for (const s of shapes) expect(s).toEqual(['chat.message', 'run.start', 'log', 'log', 'log', 'run.end']);
  });

  it('sends headers and one chunk, then stalls → run.end error provider_stream (idle timeout), not retried, partial closed; the next prompt runs', async () => {
    e2e.mark();
    const shapes: string[][] = [];
    await Promise.all(PROVIDERS.map(async (p) => {
      e2e.replay(p).push(fixture(p, 'one chunk then a stall', { chunks: p.wire.textPrefix(['Hel']), then: 'hang' }));
      const c = await e2e.conversation();
      const { frames, end } = await e2e.run(c, 'hi', stallSlug(p, 'idle'));
      shapes.push(shapeOf(frames));
      expect(end.event.data, p.id).toMatchObject({ status: 'error', reason: 'error', error: { code: 'provider_stream' } });
      expect(end.event.data.error.message).toMatch(new RegExp(`stalled: nothing for ${STALL_MS} ms after event \\d+ \\(idle_timeout_ms\\)`));
      expect(e2e.requestsSince(p)).toHaveLength(1); // content streamed: final, not retried
      expect(joined(frames)).toBe('Hel');
      expect(ofType(frames, 'llm.final').map((f) => f.event.data.text)).toEqual(['Hel']);
      const errs = ofType(frames, 'log').map((f) => f.event.data);
      expect(errs.map((l) => [l.level, l.fields.code, l.fields.attempts])).toEqual([['error', 'provider_stream', 1]]);
      await tornDown(p);
      const tl = await e2e.timeline(c.convId);
      for (const m of tl.entities.filter((x: any) => x.kind === 'message')) expect(m.props.streaming).toBe(false);
      expect(tl.conversation.running).toBeNull();

      await nextPromptCompletes(p, 'idle', c, 'Hel');
      c.assertValid();
    }));
    for (const s of shapes) expect(s).toEqual(['chat.message', 'run.start', 'llm.start', 'llm.delta', 'log', 'llm.final', 'run.end']);
  });
});

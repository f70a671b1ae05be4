/**
 * Issue 7, "abort mid-stream per provider → identical terminal frames": the provider streams a
 * few chunks and stalls; `POST …/cancel` ends the run. Every provider gives the same frames:
 * `llm.final` with the partial text, one `run.end cancelled` (`user_cancel`); the HTTP request
 * to the provider is torn down; the next prompt works and sees the partial answer.
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { assertNoSecrets, E2E, fixture, joined, ofType, PROVIDERS, received, shapeOf, USAGE } from './harness';

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

it('abort mid-stream: identical terminal frames for every provider, and the next prompt works', async () => {
  e2e.mark();
  const shapes: Record<string, string[]> = {};
  await Promise.all(PROVIDERS.map(async (p) => {
    e2e.replay(p).push(fixture(p, 'stalls after two chunks', { chunks: p.wire.textPrefix(['Hel', 'lo']), then: 'hang' }));
    const c = await e2e.conversation();
    const started = await e2e.start(c, 'Tell a long story', p.slug);
    await c.waitFor((f) => joined(f.filter((x) => x.event.seq! > started.seq)) === 'Hello', 'the partial text');
    const stalled = e2e.requestsSince(p)[0]!;

    const cancel = await e2e.api.cancel(c.convId);
    expect(cancel.status, cancel.text).toBe(200);
    expect(cancel.json).toMatchObject({ status: 'cancelled', inference_id: started.inference_id });
    const end = await c.runEnd(started.inference_id);
    expect(cancel.json.seq).toBe(end.event.seq);
    await e2e.replay(p).responseClosed(stalled.index); // the provider request is gone (else: timeout)

    const frames = c.between(started.seq, end.event.seq!);
    shapes[p.id] = shapeOf(frames);
    const final = ofType(frames, 'llm.final');
    expect(final).toHaveLength(1);
    expect(final[0]!.event.data.text).toBe('Hello');
    expect(end.event.data).toMatchObject({ status: 'cancelled', reason: 'user_cancel', error: null });
    expect(ofType(frames, 'log')).toHaveLength(0); // an abort is not an error

    let tl = await e2e.timeline(c.convId);
    expect(tl.entities.find((x: any) => x.kind === 'run').props).toMatchObject({ status: 'cancelled', reason: 'user_cancel', error: null });
    expect(tl.entities.find((x: any) => x.kind === 'message' && x.props.role === 'assistant').props).toMatchObject({ content: 'Hello', streaming: false });

    // The next prompt runs normally on the same provider and carries the partial answer.
    e2e.replay(p).push(fixture(p, 'after abort', { chunks: p.wire.text(['Fine.'], USAGE) }, (s) => {
      expect(s.messages).toEqual([
        { role: 'user', text: 'Tell a long story' },
        { role: 'assistant', text: 'Hello', toolCalls: [] },
        { role: 'user', text: 'Shorter please' },
      ]);
    }));
    const next = await e2e.run(c, 'Shorter please', p.slug);
    expect(next.end.event.data).toMatchObject({ status: 'completed', error: null, usage: USAGE });
    expect(ofType(next.frames, 'llm.final')[0]!.event.data.text).toBe('Fine.');
    expect(e2e.requestsSince(p)).toHaveLength(2);

    // Exactly one run.end per run, in the live stream and in the log.
    expect(c.frames.filter((f) => f.event.type === 'run.end' && f.event.data.inferenceId === started.inference_id)).toHaveLength(1);
    const log = await e2e.api.allEvents(c.convId);
    expect(log.frames.filter((f: any) => f.event.type === 'run.end').map((f: any) => f.event.data.reason)).toEqual(['user_cancel', 'completed']);
    tl = await e2e.timeline(c.convId);
    expect(tl.entities.filter((x: any) => x.kind === 'run').map((x: any) => x.props.status)).toEqual(['cancelled', 'completed']);
    c.assertValid();
  }));
  for (const p of PROVIDERS) {
    expect(shapes[p.id], p.id).toEqual(['chat.message', 'run.start', 'llm.start', 'llm.delta', 'llm.final', 'run.end']);
  }
});

/**
 * Issue 7, "each error class → its code": what the webchat shows when a provider fails — the
 * `run.end` error code, a `log` frame, the `run` entity of `/api/timeline` — through the real
 * server and SDKs. Retries happen only before content (a reset after content is final).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Fixture } from '../../src/providers/testing/replay-server';
import { geminiKeyInvalid } from '../../src/providers/testing/fixtures/gemini';
import {
  assertNoSecrets, E2E, echoKeyError, fixture, ofType, provider, PROVIDERS, received, shapeOf, USAGE,
  type E2EProvider, type ProviderId,
} from './harness';

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

const ALL: ProviderId[] = PROVIDERS.map((p) => p.id);
const times = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));

interface ErrorCase {
  title: string;
  providers: ProviderId[];
  fixtures: (p: E2EProvider) => Fixture[];
  /** The run.end error code, or null when the run must complete. */
  code: string | null;
  /** Requests the provider must get (retries included). */
  requests: number;
  /** `warn` log frames (one per retry). */
  retries: number;
  /** The error message must show the redaction mark (the provider echoed the key). */
  redacted?: boolean;
  /** The partial text the run showed before failing (closed by an `llm.final`). */
  partial?: string;
}

// maxRetries is 2 (the default): an error that keeps coming costs 3 requests. Retryable fixtures
// ask for a 1 ms retry-after where the provider sends one (OpenAI, Anthropic headers; Gemini's
// RetryInfo on 429), so only Gemini's 5xx wait on the engine's backoff (≤ 1.5 s).
const CASES: ErrorCase[] = [
  { title: '401 (the provider echoes the key) → provider_auth', providers: ALL, code: 'provider_auth', requests: 1, retries: 0, redacted: true,
    fixtures: (p) => [echoKeyError(p, 401, 'auth')] },
  { title: 'Gemini 400 API_KEY_INVALID echoing the key → provider_auth', providers: ['gemini'], code: 'provider_auth', requests: 1, retries: 0, redacted: true,
    fixtures: (p) => {
      const f: Fixture = {
        name: 'gemini key invalid',
        check: (req) => {
          const base = geminiKeyInvalid();
          base.json.error.message = `API key not valid. Please pass a valid API key. (got ${String(req.headers['x-goog-api-key'])})`;
          Object.assign(f, base);
        },
      };
      return [f];
    } },
  { title: '403 → provider_auth', providers: ['openai', 'anthropic'], code: 'provider_auth', requests: 1, retries: 0,
    fixtures: (p) => [{ name: '403', ...p.wire.error(403, 'forbidden') }] },
  { title: '429 with retry-after, then success → completed after one retry', providers: ALL, code: null, requests: 2, retries: 1,
    fixtures: (p) => [{ name: '429', ...p.wire.error(429, 'rate_limit', { retryAfterMs: 1 }) }, fixture(p, 'ok after 429', { chunks: p.wire.text(['fine'], USAGE) })] },
  { title: '429 until the retries are exhausted → provider_rate_limited', providers: ALL, code: 'provider_rate_limited', requests: 3, retries: 2,
    fixtures: (p) => times(3, (i) => ({ name: `429 #${i}`, ...p.wire.error(429, 'rate_limit', { retryAfterMs: 1 }) })) },
  { title: '500 → provider_overloaded (after the retries)', providers: ALL, code: 'provider_overloaded', requests: 3, retries: 2,
    fixtures: (p) => times(3, (i) => ({ name: `500 #${i}`, ...p.wire.error(500, 'server', { retryAfterMs: 1 }) })) },
  { title: '529 overloaded → provider_overloaded', providers: ['anthropic', 'openai'], code: 'provider_overloaded', requests: 3, retries: 2,
    fixtures: (p) => times(3, (i) => ({ name: `529 #${i}`, ...p.wire.error(529, 'overloaded', { retryAfterMs: 1 }) })) },
  { title: '503 once, then success → completed', providers: ['gemini', 'anthropic'], code: null, requests: 2, retries: 1,
    fixtures: (p) => [{ name: '503', ...p.wire.error(503, 'overloaded', { retryAfterMs: 1 }) }, fixture(p, 'ok after 503', { chunks: p.wire.text(['fine'], USAGE) })] },
  { title: '400 → provider_bad_request (not retried)', providers: ALL, code: 'provider_bad_request', requests: 1, retries: 0,
    fixtures: (p) => [{ name: '400', ...p.wire.error(400, 'bad_request') }] },
  { title: 'context too long → context_length_exceeded', providers: ALL, code: 'context_length_exceeded', requests: 1, retries: 0,
    fixtures: (p) => [{ name: 'context', ...p.wire.error(400, 'context') }] },
  { title: 'malformed stream → provider_stream (not retried)', providers: ALL, code: 'provider_stream', requests: 1, retries: 0,
    fixtures: (p) => [fixture(p, 'malformed', { chunks: p.wire.malformed() })] },
  { title: 'connection reset after content → provider_stream, no retry, partial text closed', providers: ALL, code: 'provider_stream', requests: 1, retries: 0, partial: 'Hello',
    fixtures: (p) => [fixture(p, 'reset', { chunks: p.wire.textPrefix(['Hel', 'lo']), then: 'destroy' })] },
  { title: 'stream ending without its end marker after content → provider_stream, partial text closed', providers: ALL, code: 'provider_stream', requests: 1, retries: 0, partial: 'Hello',
    fixtures: (p) => [fixture(p, 'truncated', { chunks: p.wire.truncated(['Hel', 'lo']) })] },
  { title: 'an error event inside the stream before content → retried, then success', providers: ALL, code: null, requests: 2, retries: 1,
    fixtures: (p) => [fixture(p, 'stream error', { chunks: p.wire.streamError!('overloaded') }), fixture(p, 'ok after stream error', { chunks: p.wire.text(['fine'], USAGE) })] },
  { title: 'connection reset before content → retried, then success', providers: ['openai', 'gemini'], code: null, requests: 2, retries: 1,
    fixtures: (p) => [fixture(p, 'reset early', { chunks: [], then: 'destroy' }), fixture(p, 'ok after reset', { chunks: p.wire.text(['fine'], USAGE) })] },
];

describe('provider errors through the server', () => {
  for (const cse of CASES) {
    it(`${cse.title} [${cse.providers.join(', ')}]`, async () => {
      e2e.mark();
      const shapes: string[][] = [];
      await Promise.all(cse.providers.map(provider).map(async (p) => {
        e2e.replay(p).push(...cse.fixtures(p));
        const c = await e2e.conversation();
        const { frames, end } = await e2e.run(c, 'hi', p.slug);
        shapes.push(shapeOf(frames));
        expect(e2e.requestsSince(p), `${p.id} requests`).toHaveLength(cse.requests);
        const logs = ofType(frames, 'log').map((f) => f.event.data);
        const warns = logs.filter((l) => l.level === 'warn');
        expect(warns, `${p.id} retry logs`).toHaveLength(cse.retries);
        warns.forEach((w, i) => expect(w.fields).toMatchObject({ provider: p.id, attempt: i + 1 }));
        const tl = await e2e.timeline(c.convId);
        const run = tl.entities.find((x: any) => x.kind === 'run');

        if (cse.code === null) {
          expect(end.event.data, p.id).toMatchObject({ status: 'completed', reason: 'completed', error: null, usage: USAGE });
          expect(logs.filter((l) => l.level === 'error')).toHaveLength(0);
          expect(ofType(frames, 'llm.final').map((f) => f.event.data.text)).toEqual(['fine']);
          expect(run.props).toMatchObject({ status: 'completed', error: null });
          return;
        }
        expect(end.event.data, p.id).toMatchObject({ status: 'error', reason: 'error', error: { code: cse.code } });
        const message: string = end.event.data.error.message;
        expect(message.length).toBeGreaterThan(0);
        if (cse.redacted) expect(message).toContain('***');
        const errs = logs.filter((l) => l.level === 'error');
        expect(errs, `${p.id} error logs`).toHaveLength(1);
        expect(errs[0]!.fields).toMatchObject({ provider: p.id, code: cse.code, attempts: cse.requests });
        // the timeline shows the run's error and the log line
        expect(run.props).toMatchObject({ inferenceId: end.event.data.inferenceId, status: 'error', reason: 'error', error: { code: cse.code, message } });
        expect(tl.entities.filter((x: any) => x.kind === 'log' && x.props.level === 'error')).toHaveLength(1);
        expect(tl.conversation.running).toBeNull();
        // no ghost message: an assistant message exists only if content streamed, and it is closed
        const finals = ofType(frames, 'llm.final').map((f) => f.event.data.text);
        expect(finals).toEqual(cse.partial ? [cse.partial] : []);
        for (const m of tl.entities.filter((x: any) => x.kind === 'message')) expect(m.props.streaming).toBe(false);
        c.assertValid();
      }));
      for (const s of shapes) expect(s).toEqual(shapes[0]); // the same frames whatever the provider
    });
  }
});

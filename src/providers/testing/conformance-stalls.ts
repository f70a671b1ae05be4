import { describe, expect, it } from 'vitest';
import { AbortedError, ProviderError } from '../../inference/errors';
import { blocks, newTurn } from '../../inference/turn';
import type { Env } from './conformance-errors';
import { assertMessageInvariants, ofType, runEngine, shape } from './harness';
import type { ProviderWire } from './wire';

const USAGE = { inputTokens: 3, outputTokens: 2, cachedTokens: 0 };
/**
 * Stall limits: the one under test is small, the other generous so that a slow machine cannot
 * trip it; the assertions are on outcomes (codes, requests, events), not on time.
 */
const SMALL = 250;
const FIRST_BYTE = { firstByteTimeoutMs: SMALL, idleTimeoutMs: 10_000 };
const IDLE = { firstByteTimeoutMs: 10_000, idleTimeoutMs: SMALL };

/**
 * A stalled provider (no headers; headers and nothing; content then nothing) ends the request
 * with `provider_stream` after the profile's timeouts, retried only before content; the stalled
 * HTTP request is torn down and the same engine's next call runs normally. Stop during a stall
 * is a cancel, not a timeout.
 */
export function describeStallConformance(wire: ProviderWire, env: Env): void {
  const turn = () => newTurn([blocks.user('hi')]);
  const engine = (maxRetries: number, timeouts: typeof FIRST_BYTE) => env.engine({ ...timeouts, maxRetries });
  const closed = (from = 0) => Promise.all(env.server.requests.slice(from).map((r) => env.server.responseClosed(r.index)));

  /** A healthy call on generous limits first, so no one-time start-up cost (modules, JIT) lands inside a small limit. */
  async function warmUp(): Promise<void> {
    env.server.push(env.fixture('warm-up', { chunks: wire.text(['warm'], USAGE) }));
    expect((await runEngine(env.engine({ maxRetries: 0 }), turn())).error).toBeNull();
  }

  /**
   * The same engine's next call completes. It lives under the same small limit, so on a badly
   * overloaded machine its first attempt may time out too: a spare answer per retry keeps the
   * outcome what is tested.
   */
  async function nextCallCompletes(e: ReturnType<typeof engine>): Promise<void> {
    for (let i = 0; i < 3; i++) env.server.push(env.fixture(`after the stall #${i}`, { chunks: wire.text(['fine'], USAGE) }));
    const r = await runEngine(e, turn());
    expect(r.error).toBeNull();
    expect(ofType(r.events, 'final').map((f) => f.text)).toEqual(['fine']);
    env.server.discardPending();
  }

  describe('stalls', () => {
    it('no response headers, every attempt → provider_stream (first_byte_timeout_ms) after the retries; the next call runs', async () => {
      await warmUp();
      const from = env.server.requests.length;
      env.server.push(env.fixture('silent #1', { silent: true }), env.fixture('silent #2', { silent: true }));
      const e = engine(1, FIRST_BYTE);
      const r = await runEngine(e, turn());
      expect(r.error).toBeInstanceOf(ProviderError);
      expect(r.error).toMatchObject({ code: 'provider_stream' });
      expect((r.error as Error).message).toMatch(/nothing for 250 ms after the request \(first_byte_timeout_ms\)/);
      // Two attempts (the logs say so); on a very slow machine the retry may give up before its request arrives.
      expect(env.server.requests.length - from).toBeGreaterThanOrEqual(1);
      expect(env.server.requests.length - from).toBeLessThanOrEqual(2);
      const logs = ofType(r.events, 'log');
      expect(logs.map((l) => [l.level, l.fields?.code])).toEqual([['warn', 'provider_stream'], ['error', 'provider_stream']]);
      expect(logs[1]!.fields).toMatchObject({ provider: wire.provider, attempts: 2, retryable: true });
      expect(r.events.map((ev) => ev.type)).toEqual(['log', 'log']); // no ghost message
      await closed(from); // the stalled requests were torn down (the test would time out otherwise)
      env.server.discardPending();
      await nextCallCompletes(e);
    });

    it('headers, then nothing → the first-byte timeout too, retried before content, then the retry completes', async () => {
      await warmUp();
      const from = env.server.requests.length;
      // A spare answer: on a badly overloaded machine the retry's first event may miss the small limit too.
      env.server.push(
        env.fixture('headers only', { chunks: [], then: 'hang' }),
        env.fixture('ok after stall', { chunks: wire.text(['fine'], USAGE) }),
        env.fixture('ok after stall (spare)', { chunks: wire.text(['fine'], USAGE) }),
      );
      const r = await runEngine(engine(2, FIRST_BYTE), turn());
      expect(r.error).toBeNull();
      expect(env.server.requests[from]!.body).toBeDefined(); // the headers-only stall was reached
      const [warn] = ofType(r.events, 'log');
      expect(ofType(r.events, 'log').every((l) => l.level === 'warn')).toBe(true);
      expect(warn!.fields).toMatchObject({ code: 'provider_stream', attempt: 1 });
      expect(String(warn!.fields?.error)).toMatch(/first_byte_timeout_ms/);
      expect(ofType(r.events, 'final').map((f) => f.text)).toEqual(['fine']);
      expect(shape(r.events.filter((ev) => ev.type !== 'log'))).toEqual(['start', 'partial', 'final']);
      assertMessageInvariants(r.events, { final: true });
      await closed(from);
      env.server.discardPending();
    });

    it('content, then a stall → provider_stream (idle_timeout_ms), not retried, no final; the next call runs', async () => {
      const e = engine(2, IDLE);
      env.server.push(env.fixture('stall after content', { chunks: wire.textPrefix(['Hel']), then: 'hang' }));
      const r = await runEngine(e, turn());
      expect(r.error).toMatchObject({ code: 'provider_stream' });
      expect((r.error as Error).message).toMatch(/stalled: nothing for 250 ms after event \d+ \(idle_timeout_ms\)/);
      expect(env.server.requests).toHaveLength(1);
      expect(shape(r.events)).toEqual(['start', 'partial', 'log']);
      expect(ofType(r.events, 'partial').map((p) => p.delta).join('')).toBe('Hel');
      expect(ofType(r.events, 'log')[0]).toMatchObject({ level: 'error', fields: { code: 'provider_stream', attempts: 1 } });
      assertMessageInvariants(r.events, { final: false });
      await closed();
      await nextCallCompletes(e);
    });

    it('Stop during a stall → AbortedError, no error log, the request torn down', async () => {
      env.server.push(env.fixture('stall to cancel', { chunks: wire.textPrefix(['Hel']), then: 'hang' }));
      const r = await runEngine(engine(2, IDLE), turn(), {
        // Stop inside the stall: this timer is due before the idle timer armed just earlier (timers fire in due order).
        onEvent: (ev, c) => { if (ev.type === 'partial') setTimeout(() => c.abort(), 50); },
      });
      expect(r.error).toBeInstanceOf(AbortedError);
      expect(ofType(r.events, 'log')).toHaveLength(0);
      await closed();
      expect(env.server.requests).toHaveLength(1);
    });
  });
}

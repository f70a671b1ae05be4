import { describe, expect, it } from 'vitest';
import { sinkFrom, withEventSinks } from '../../inference/event-sinks';
import type { InferenceEvent } from '../../inference/events';
import { AbortedError, ProviderError } from '../../inference/errors';
import { abortableSleep, backoffDelay, MAX_BACKOFF_MS, withProviderRetry, type RetryPolicy } from './retry';

const RUN = { sessionId: 's', inferenceId: 'i', turnId: 't' };

function setup(over: Partial<RetryPolicy> = {}) {
  const events: InferenceEvent[] = [];
  const sleeps: number[] = [];
  const controller = new AbortController();
  const policy: RetryPolicy = {
    provider: 'p', model: 'm', run: RUN, signal: controller.signal, hasContent: () => false, backoffMs: 100,
    random: () => 0.5, sleep: async (ms) => { sleeps.push(ms); }, secrets: ['the-key-123'], ...over,
  };
  const run = <T>(fn: (n: number) => Promise<T>) => withEventSinks([sinkFrom((e) => events.push(e))], () => withProviderRetry(policy, fn));
  return { events, sleeps, controller, run };
}

const overloaded = () => new ProviderError('provider_overloaded', 'busy', { status: 503 });
const logs = (events: InferenceEvent[]) => events.filter((e): e is Extract<InferenceEvent, { type: 'log' }> => e.type === 'log');

describe('withProviderRetry', () => {
  it('retries retryable errors with exponential backoff, then gives up with one error log', async () => {
    const t = setup({ maxRetries: 3 });
    let calls = 0;
    await expect(t.run(async () => { calls++; throw overloaded(); })).rejects.toMatchObject({ code: 'provider_overloaded' });
    expect(calls).toBe(4);
    expect(t.sleeps).toEqual([75, 150, 300]); // base·2^(n-1), equal jitter at random 0.5
    const l = logs(t.events);
    expect(l.map((e) => e.level)).toEqual(['warn', 'warn', 'warn', 'error']);
    expect(l.slice(0, 3).map((e) => e.fields?.attempt)).toEqual([1, 2, 3]);
    expect(l[0]!.message).toMatch(/retry 1 of 3/);
    expect(l[3]!.fields).toMatchObject({ code: 'provider_overloaded', attempts: 4, status: 503 });
  });

  it('honours retry-after instead of the backoff', async () => {
    const t = setup();
    let calls = 0;
    const out = await t.run(async () => {
      if (calls++ === 0) throw new ProviderError('provider_rate_limited', 'slow', { status: 429, retryAfterMs: 1234 });
      return 'ok';
    });
    expect(out).toBe('ok');
    expect(t.sleeps).toEqual([1234]);
    expect(logs(t.events)[0]!.fields).toMatchObject({ retryAfterMs: 1234, delayMs: 1234, code: 'provider_rate_limited' });
  });

  it('does not wait when the provider asks for more than a minute: the error is final', async () => {
    const t = setup();
    await expect(t.run(async () => { throw new ProviderError('provider_rate_limited', 'slow', { retryAfterMs: 3_600_000 }); })).rejects.toBeInstanceOf(ProviderError);
    expect(t.sleeps).toEqual([]);
  });

  it('never retries once content was published', async () => {
    let content = false;
    const t = setup({ hasContent: () => content });
    let calls = 0;
    await expect(t.run(async () => { calls++; content = true; throw overloaded(); })).rejects.toMatchObject({ code: 'provider_overloaded' });
    expect(calls).toBe(1);
    expect(logs(t.events).map((e) => e.level)).toEqual(['error']);
  });

  it('never retries non-retryable errors', async () => {
    const t = setup();
    let calls = 0;
    await expect(t.run(async () => { calls++; throw new ProviderError('provider_auth', 'no'); })).rejects.toMatchObject({ code: 'provider_auth' });
    expect(calls).toBe(1);
  });

  it('abort while waiting to retry → AbortedError at once, no error log', async () => {
    const t = setup({ sleep: abortableSleep, backoffMs: 600_000 });
    let calls = 0;
    const p = withEventSinks([sinkFrom((e) => { if (e.type === 'log' && e.level === 'warn') t.controller.abort(); })], () =>
      t.run(async () => { calls++; throw overloaded(); }));
    await expect(p).rejects.toBeInstanceOf(AbortedError); // would hang for 10 minutes otherwise
    expect(calls).toBe(1);
    expect(logs(t.events).map((e) => e.level)).toEqual(['warn']);
  });

  it('an error that arrives after the abort is an AbortedError, not a provider error', async () => {
    const t = setup();
    await expect(t.run(async () => { t.controller.abort(); throw overloaded(); })).rejects.toBeInstanceOf(AbortedError);
    expect(t.events).toHaveLength(0);
    const t2 = setup();
    t2.controller.abort();
    await expect(t2.run(async () => 'x')).rejects.toBeInstanceOf(AbortedError);
  });

  it('redacts secrets from logged messages', async () => {
    const t = setup({ maxRetries: 0 });
    await expect(t.run(async () => { throw new Error('401 bad key the-key-123'); })).rejects.toBeInstanceOf(ProviderError);
    expect(JSON.stringify(t.events)).not.toContain('the-key-123');
  });
});

describe('backoffDelay', () => {
  it('grows exponentially, is jittered within [exp/2, exp] and capped', () => {
    expect(backoffDelay(1, 500, () => 0)).toBe(250);
    expect(backoffDelay(1, 500, () => 0.999999)).toBe(500);
    expect(backoffDelay(3, 500, () => 0)).toBe(1000);
    expect(backoffDelay(20, 500, () => 0.999999)).toBe(MAX_BACKOFF_MS);
  });
});

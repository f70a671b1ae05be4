import { describe, expect, it } from 'vitest';
import { ProviderError } from '../../inference/errors';
import type { InferenceEvent } from '../../inference/events';
import { blocks, newTurn } from '../../inference/turn';
import type { ProviderConfig } from '../index';
import type { Engine } from '../../inference/engine';
import { assertMessageInvariants, ofType, runEngine, shape, TEST_API_KEY } from './harness';
import type { Fixture, RecordedRequest, ReplayServer } from './replay-server';
import type { ProviderWire, RequestSummary } from './wire';

const USAGE = { inputTokens: 3, outputTokens: 2, cachedTokens: 0 };

export interface Env {
  server: ReplayServer;
  engine(extra?: Partial<ProviderConfig>): Engine;
  fixture(name: string, rest: Omit<Fixture, 'name' | 'check'>, check?: (s: RequestSummary, req: RecordedRequest) => void): Fixture;
}

const logs = (events: InferenceEvent[], level: 'warn' | 'error') => ofType(events, 'log').filter((l) => l.level === level);

function expectProviderError(err: unknown, code: string, status?: number): ProviderError {
  expect(err).toBeInstanceOf(ProviderError);
  const pe = err as ProviderError;
  expect(pe.code).toBe(code);
  if (status !== undefined) expect(pe.opts.status).toBe(status);
  expect(pe.message).not.toContain(TEST_API_KEY);
  return pe;
}

/** Error classes → `run.end` codes, retries only before content, a log event per retry and per final error. */
export function describeErrorConformance(wire: ProviderWire, env: Env): void {
  const turn = () => newTurn([blocks.user('hi')]);

  describe('errors', () => {
    const finalOnly: [string, number, Parameters<ProviderWire['error']>[1], string][] = [
      ['401 → provider_auth', 401, 'auth', 'provider_auth'],
      ['403 → provider_auth', 403, 'forbidden', 'provider_auth'],
      ['400 context too long → context_length_exceeded', 400, 'context', 'context_length_exceeded'],
      ['400 other → provider_bad_request', 400, 'bad_request', 'provider_bad_request'],
    ];
    for (const [title, status, kind, code] of finalOnly) {
      it(`${title}, not retried, one error log`, async () => {
        env.server.push({ name: title, ...wire.error(status, kind) });
        const r = await runEngine(env.engine(), turn());
        expectProviderError(r.error, code, status);
        expect(env.server.requests).toHaveLength(1);
        expect(r.events.map((e) => e.type)).toEqual(['log']);
        const [log] = logs(r.events, 'error');
        expect(log!.fields).toMatchObject({ code, status, attempts: 1, provider: wire.provider });
        expect(JSON.stringify(r.events)).not.toContain(TEST_API_KEY);
      });
    }

    it('429 with retry-after: retried (before content) after the asked delay, then succeeds', async () => {
      env.server.push(
        { name: '429', ...wire.error(429, 'rate_limit', { retryAfterMs: 5 }) },
        env.fixture('ok after 429', { chunks: wire.text(['fine'], USAGE) }),
      );
      const r = await runEngine(env.engine(), turn());
      expect(r.error).toBeNull();
      expect(env.server.requests).toHaveLength(2);
      const [warn, ...more] = logs(r.events, 'warn');
      expect(more).toHaveLength(0);
      expect(warn!.message).toMatch(/retry/);
      expect(warn!.fields).toMatchObject({ attempt: 1, code: 'provider_rate_limited', status: 429, retryAfterMs: 5, delayMs: 5 });
      expect(logs(r.events, 'error')).toHaveLength(0);
      expect(shape(r.events.filter((e) => e.type !== 'log'))).toEqual(['start', 'partial', 'final']);
      assertMessageInvariants(r.events, { final: true });
    });

    it('500 → provider_overloaded after the retries are exhausted (maxRetries + 1 requests)', async () => {
      for (let i = 0; i < 3; i++) env.server.push({ name: `500 #${i}`, ...wire.error(500, 'server') });
      const r = await runEngine(env.engine({ maxRetries: 2 }), turn());
      expectProviderError(r.error, 'provider_overloaded', 500);
      expect(env.server.requests).toHaveLength(3);
      expect(logs(r.events, 'warn').map((l) => l.fields?.attempt)).toEqual([1, 2]);
      expect(logs(r.events, 'error')).toHaveLength(1);
      expect(r.events.map((e) => e.type)).toEqual(['log', 'log', 'log']); // no ghost message
    });

    it('503 overloaded with maxRetries 0 → provider_overloaded at once', async () => {
      env.server.push({ name: '503', ...wire.error(503, 'overloaded') });
      const r = await runEngine(env.engine({ maxRetries: 0 }), turn());
      expectProviderError(r.error, 'provider_overloaded', 503);
      expect(env.server.requests).toHaveLength(1);
    });

    it('malformed JSON in the stream → provider_stream (not retried)', async () => {
      env.server.push(env.fixture('malformed', { chunks: wire.malformed() }));
      const r = await runEngine(env.engine(), turn());
      expectProviderError(r.error, 'provider_stream');
      expect(env.server.requests).toHaveLength(1);
      expect(logs(r.events, 'error')).toHaveLength(1);
    });

    it('socket destroyed mid-stream after content → provider_stream, no retry, no final', async () => {
      env.server.push(env.fixture('reset', { chunks: wire.textPrefix(['Hel', 'lo']), then: 'destroy' }));
      const r = await runEngine(env.engine(), turn());
      expectProviderError(r.error, 'provider_stream');
      expect(env.server.requests).toHaveLength(1);
      expect(shape(r.events)).toEqual(['start', 'partial', 'log']);
      expect(ofType(r.events, 'partial').map((p) => p.delta).join('')).toBe('Hello');
      expect(logs(r.events, 'error')).toHaveLength(1);
      assertMessageInvariants(r.events, { final: false });
    });

    it('socket destroyed before any content → retried', async () => {
      env.server.push(
        env.fixture('reset early', { chunks: [], then: 'destroy' }),
        env.fixture('ok after reset', { chunks: wire.text(['fine'], USAGE) }),
      );
      const r = await runEngine(env.engine(), turn());
      expect(r.error).toBeNull();
      expect(env.server.requests).toHaveLength(2);
      expect(logs(r.events, 'warn')[0]!.fields).toMatchObject({ attempt: 1, code: 'provider_stream' });
    });

    it('stream ending without the end marker after content → provider_stream', async () => {
      env.server.push(env.fixture('truncated', { chunks: wire.truncated(['Hel', 'lo']) }));
      const r = await runEngine(env.engine(), turn());
      expectProviderError(r.error, 'provider_stream');
      expect(env.server.requests).toHaveLength(1);
      expect(ofType(r.events, 'final')).toHaveLength(0);
    });

    if (wire.streamError) {
      it('an error event inside the stream, before content → provider_overloaded, retried, then succeeds', async () => {
        env.server.push(
          env.fixture('stream error', { chunks: wire.streamError!('overloaded') }),
          env.fixture('ok after stream error', { chunks: wire.text(['fine'], USAGE) }),
        );
        const r = await runEngine(env.engine(), turn());
        expect(r.error).toBeNull();
        expect(env.server.requests).toHaveLength(2);
        expect(logs(r.events, 'warn')[0]!.fields).toMatchObject({ attempt: 1, code: 'provider_overloaded' });
      });
    }
  });
}

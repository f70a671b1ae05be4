import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InferenceEvent } from '../inference/events';
import { AbortedError } from '../inference/errors';
import { blocks, newTurn } from '../inference/turn';
import { createEngine, PROVIDER_NAMES } from './index';
import { anthropicWire } from './testing/fixtures/anthropic';
import { geminiWire } from './testing/fixtures/gemini';
import { openaiChatWire } from './testing/fixtures/openai-chat';
import { openaiResponsesWire } from './testing/fixtures/openai-responses';
import { runEngine, TEST_API_KEY } from './testing/harness';
import { ReplayServer } from './testing/replay-server';
import type { ProviderWire } from './testing/wire';

const WIRES: ProviderWire[] = [openaiChatWire, openaiResponsesWire, anthropicWire, geminiWire];
const USAGE = { inputTokens: 20, outputTokens: 9, cachedTokens: 0 };

/** Event types in order plus what must be equal across providers (ids and timings left out). */
function normalized(events: InferenceEvent[]): unknown[] {
  return events.map((e) => {
    switch (e.type) {
      case 'partial': return [e.type, e.delta, e.offset];
      case 'tool-call': return [e.type, e.toolCall.name, e.toolCall.input];
      case 'final': return [e.type, e.text, e.meta.usage, e.meta.stopReason];
      case 'log': return [e.type, e.level, e.fields?.code];
      default: return [e.type];
    }
  });
}

describe('every provider shows the same event sequence for the same scenario', () => {
  let server: ReplayServer;
  beforeAll(async () => { server = await ReplayServer.start(); });
  afterAll(async () => {
    try { server.assertClean(); } finally { await server.close(); }
  });
  const engine = (w: ProviderWire) => createEngine({ provider: w.provider, model: w.model, apiKey: TEST_API_KEY, baseURL: w.baseURL(server.url), retryBackoffMs: 1 });

  it('covers every provider name', () => {
    expect(WIRES.map((w) => w.provider).sort()).toEqual([...PROVIDER_NAMES].sort());
  });

  it('text + tool call: identical types, deltas, offsets, tool input, usage, stop reason', async () => {
    const seen: unknown[][] = [];
    for (const w of WIRES) {
      server.push({ name: `${w.provider} text+tool`, chunks: w.toolCalls([{ id: w.callId(0), name: 'calc', args: '{"expression":"2+3"}' }], { text: ['Let me ', 'compute.'], usage: USAGE }) });
      const r = await runEngine(engine(w), newTurn([blocks.user('What is 2+3?')]));
      expect(r.error).toBeNull();
      seen.push(normalized(r.events));
    }
    expect(seen[0]!.map((e) => (e as unknown[])[0])).toEqual(['start', 'partial', 'partial', 'tool-call', 'final']);
    for (const s of seen.slice(1)) expect(s).toEqual(seen[0]);
  });

  it('retry then error after content: identical log and terminal behaviour', async () => {
    const seen: unknown[][] = [];
    for (const w of WIRES) {
      server.push({ name: `${w.provider} 429`, ...w.error(429, 'rate_limit', { retryAfterMs: 1 }) });
      server.push({ name: `${w.provider} reset`, chunks: w.textPrefix(['Hel', 'lo']), then: 'destroy' });
      const r = await runEngine(engine(w), newTurn([blocks.user('hi')]));
      expect(r.error).toMatchObject({ code: 'provider_stream' });
      seen.push(normalized(r.events));
    }
    expect(seen[0]).toEqual([['log', 'warn', 'provider_rate_limited'], ['start'], ['partial', 'Hel', 0], ['partial', 'lo', 3], ['log', 'error', 'provider_stream']]);
    for (const s of seen.slice(1)) expect(s).toEqual(seen[0]);
  });

  it('abort mid-stream: identical events and error', async () => {
    const seen: unknown[][] = [];
    for (const w of WIRES) {
      server.push({ name: `${w.provider} hang`, chunks: w.textPrefix(['Hel', 'lo']), then: 'hang' });
      const r = await runEngine(engine(w), newTurn([blocks.user('hi')]), { onEvent: (e, c) => { if (e.type === 'partial') c.abort(); } });
      expect(r.error).toBeInstanceOf(AbortedError);
      seen.push(normalized(r.events));
    }
    expect(seen[0]).toEqual([['start'], ['partial', 'Hel', 0]]);
    for (const s of seen.slice(1)) expect(s).toEqual(seen[0]);
  });
});

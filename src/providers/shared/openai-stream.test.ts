import { describe, expect, it } from 'vitest';
import { ProviderError } from '../../inference/errors';
import { blocks, newTurn } from '../../inference/turn';
import { useReplay } from '../testing/conformance';
import { openaiChatWire } from '../testing/fixtures/openai-chat';
import { openaiResponsesWire } from '../testing/fixtures/openai-responses';
import { assertMessageInvariants, ofType, runEngine } from '../testing/harness';
import { sse } from '../testing/replay-server';

/**
 * The OpenAI-family engines read their SSE themselves (`openai-stream.ts`): the wire variations
 * the SDK's reader handled, end to end through the real SDK request and the replay server.
 */

const USAGE = { inputTokens: 9, outputTokens: 4, cachedTokens: 0 };
const DELTAS = ['Grü', 'ße 👋', ' 世界', '!'];
const turn = () => newTurn([blocks.user('hi')]);

/** CRLF line ends, a keep-alive comment before every event, one JSON payload over two `data:` lines. */
function variant(events: string[]): string {
  return events
    .map((e, i) => `: keep-alive ${i}\n\n${i === 1 ? e.replace(/,"/, ',\ndata: "') : e}`)
    .join('')
    .replace(/\n/g, '\r\n');
}

/** The bytes cut inside every multi-byte UTF-8 character and inside every `data:` field name. */
function cutEverywhere(text: string): Uint8Array[] {
  const all = new TextEncoder().encode(text);
  const cuts = new Set<number>();
  for (let i = 0; i < all.length; i++) {
    if (all[i]! >= 0xc0) cuts.add(i + 1); // after the lead byte of a multi-byte sequence
    if (all[i] === 0x64 && all[i + 1] === 0x61 && all[i + 2] === 0x74 && all[i + 3] === 0x61 && all[i + 4] === 0x3a) cuts.add(i + 2); // "da|ta:"
  }
  const chunks: Uint8Array[] = [];
  let at = 0;
  for (const c of [...cuts].sort((a, b) => a - b)) { chunks.push(all.slice(at, c)); at = c; }
  chunks.push(all.slice(at));
  return chunks;
}

describe('openai chat: stream reading', () => {
  const env = useReplay(openaiChatWire);

  it('CRLF, keep-alives, multi-line data, chunks cut mid-UTF-8 and mid-line; chunks after [DONE] ignored', async () => {
    const events = openaiChatWire.text(DELTAS, USAGE);
    expect(events[events.length - 1]).toBe('data: [DONE]\n\n');
    const late = openaiChatWire.textPrefix(['LATE'])[1]!; // a content chunk after [DONE]: never shown
    const chunks = cutEverywhere(variant([...events, late]));
    expect(chunks.length).toBeGreaterThan(12); // 5 multi-byte characters, 8 `data:` lines
    env.server.push(env.fixture('variant', { chunks }));
    const r = await runEngine(env.engine(), turn());
    expect(r.error).toBeNull();
    expect(ofType(r.events, 'partial').map((p) => p.delta)).toEqual(DELTAS);
    assertMessageInvariants(r.events, { final: true });
    expect(ofType(r.events, 'final')[0]!.meta).toMatchObject({ usage: USAGE, stopReason: 'stop' });
    expect(env.server.requests).toHaveLength(1);
  });

  it('an error payload after content in the same read: the content is published first, then the error (its code kept), not retried', async () => {
    const error = sse({ error: { message: "This model's maximum context length is 128000 tokens.", type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' } });
    env.server.push(env.fixture('error after content', { chunks: [[...openaiChatWire.textPrefix(['Hel', 'lo']), error].join('')] }));
    const r = await runEngine(env.engine(), turn());
    expect(r.error).toBeInstanceOf(ProviderError);
    expect(r.error).toMatchObject({ code: 'context_length_exceeded' });
    expect(ofType(r.events, 'partial').map((p) => p.delta)).toEqual(['Hel', 'lo']);
    assertMessageInvariants(r.events, { final: false });
    expect(env.server.requests).toHaveLength(1);
  });
});

describe('openai responses: stream reading', () => {
  const env = useReplay(openaiResponsesWire);

  it('named events with CRLF, keep-alives, multi-line data, chunks cut mid-UTF-8 and mid-line', async () => {
    env.server.push(env.fixture('variant', { chunks: cutEverywhere(variant(openaiResponsesWire.text(DELTAS, USAGE))) }));
    const r = await runEngine(env.engine(), turn());
    expect(r.error).toBeNull();
    expect(ofType(r.events, 'partial').map((p) => p.delta)).toEqual(DELTAS);
    assertMessageInvariants(r.events, { final: true });
    expect(ofType(r.events, 'final')[0]!.meta).toMatchObject({ usage: USAGE, stopReason: 'stop' });
  });

  it('an `event: error` frame (server_error, CRLF) before content → provider_overloaded, retried, then the retry completes', async () => {
    const created = openaiResponsesWire.textPrefix([]).slice(0, 2);
    const error = sse({ type: 'error', sequence_number: 2, code: 'server_error', message: 'The server had an error while processing your request.', param: null }, 'error', '\r\n');
    env.server.push(
      env.fixture('error event', { chunks: [...created, error] }),
      env.fixture('ok', { chunks: openaiResponsesWire.text(['fine'], USAGE) }),
    );
    const r = await runEngine(env.engine(), turn());
    expect(r.error).toBeNull();
    expect(env.server.requests).toHaveLength(2);
    expect(ofType(r.events, 'log').find((l) => l.level === 'warn')!.fields).toMatchObject({ attempt: 1, code: 'provider_overloaded' });
    expect(ofType(r.events, 'partial').map((p) => p.delta)).toEqual(['fine']);
  });
});

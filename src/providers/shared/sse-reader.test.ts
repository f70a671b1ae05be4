import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ReplayServer, type Fixture } from '../testing/replay-server';
import { classifyProviderError } from './errors';
import { readSseBatches, SSE_END, type EventSourceMessage, type SseDecode } from './sse-reader';

/** The messages as `{event, data}` (no id: these streams carry none). */
const asIs: SseDecode<{ event: string | undefined; data: string }> = (m: EventSourceMessage) => ({ event: m.event, data: m.data });

const bytes = (s: string) => new TextEncoder().encode(s);

describe('readSseBatches (a real HTTP response from the replay server)', () => {
  let server: ReplayServer;
  beforeEach(async () => { server = await ReplayServer.start(); });
  afterEach(async () => {
    try { server.assertClean(); } finally { await server.close(); }
  });

  /** Serves `fixture`, reads it with `decode`; returns the batches as delivered. */
  async function read<T>(fixture: Omit<Fixture, 'name'>, decode: SseDecode<T>, signal = new AbortController().signal): Promise<T[][]> {
    server.push({ name: 'sse', ...fixture });
    const res = await fetch(server.url, { method: 'POST', body: '{}', signal });
    const out: T[][] = [];
    for await (const batch of readSseBatches(res, decode, signal)) out.push(batch);
    return out;
  }

  it('multi-line data is joined with a newline; the event name is kept; no name → undefined', async () => {
    const batches = await read({ chunks: ['event: response.created\ndata: {"a":\ndata: 1}\n\n', 'data: x\ndata:y\ndata\n\n'] }, asIs);
    expect(batches.flat()).toEqual([
      { event: 'response.created', data: '{"a":\n1}' },
      { event: undefined, data: 'x\ny\n' },
    ]);
  });

  it('CRLF and lone CR line ends read like LF', async () => {
    const batches = await read({ chunks: ['data: one\r\n\r\n', 'event: e\rdata: two\r\r', 'data: three\n\n'] }, asIs);
    expect(batches.flat()).toEqual([
      { event: undefined, data: 'one' },
      { event: 'e', data: 'two' },
      { event: undefined, data: 'three' },
    ]);
  });

  it('comments and keep-alives are skipped and never make an empty batch', async () => {
    const batches = await read({ chunks: [': OPENROUTER PROCESSING\n\n', 'data: a\n\n', ':\n\n', ': ping\n\n', 'data: b\n: inline comment\n\n', '\n\n'] }, asIs);
    expect(batches.flat().map((m) => m.data)).toEqual(['a', 'b']);
    expect(batches.every((b) => b.length > 0)).toBe(true);
  });

  it('a chunk ending inside a UTF-8 sequence and inside a line still decodes exactly', async () => {
    const text = 'héllo 🌍 — 世界';
    const all = bytes(`data: {"t":"${text}"}\n\ndata: [tail]\n\n`);
    const emoji = all.indexOf(0xf0); // first byte of the 4-byte 🌍
    const cuts = [3, emoji + 1, emoji + 3, all.indexOf(0xe4) + 2]; // mid "data:", inside 🌍 twice, inside 世
    const chunks: Uint8Array[] = [];
    let at = 0;
    for (const c of [...cuts, all.length]) { chunks.push(all.slice(at, c)); at = c; }
    const batches = await read({ chunks }, asIs);
    expect(batches.flat().map((m) => m.data)).toEqual([`{"t":"${text}"}`, '[tail]']);
    expect(batches.flat().map((m) => m.data).join('')).not.toContain('\uFFFD');
  });

  it('any split of the bytes into chunks gives the same messages (fast-check, fixed seed)', async () => {
    const stream = bytes([
      'event: response.output_text.delta\r\ndata: {"delta":"Grüße 👋"}\r\n\r\n',
      ': keep-alive\n\n',
      'data: {"a":\ndata: "ü"}\n\n',
      'data: [DONE]\n\n',
    ].join(''));
    const expected = [
      { event: 'response.output_text.delta', data: '{"delta":"Grüße 👋"}' },
      { event: undefined, data: '{"a":\n"ü"}' },
      { event: undefined, data: '[DONE]' },
    ];
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 12 }), async (cuts) => {
        const chunks: Uint8Array[] = [];
        let at = 0;
        for (const c of [...cuts.sort((a, b) => a - b), stream.length]) { chunks.push(stream.slice(at, c)); at = c; }
        const batches = await read({ chunks }, asIs);
        expect(batches.flat()).toEqual(expected);
        expect(batches.every((b) => b.length > 0)).toBe(true);
      }),
      { seed: 20261206, numRuns: 40 },
    );
  });

  it('SSE_END: the messages after the end marker are ignored, those before it delivered', async () => {
    const decode: SseDecode<string> = (m) => (m.data === '[DONE]' ? SSE_END : m.data);
    const batches = await read({ chunks: ['data: a\n\ndata: [DONE]\n\ndata: late\n\n', 'data: later\n\n'] }, decode);
    expect(batches).toEqual([['a']]);
  });

  it('a message that fails to decode: the values before it in the same read come first, then its error', async () => {
    const decode: SseDecode<unknown> = (m) => JSON.parse(m.data);
    server.push({ name: 'bad json', chunks: ['data: {"n":1}\n\ndata: {"n":2}\n\ndata: {"n":\n\ndata: {"n":4}\n\n'] });
    const res = await fetch(server.url, { method: 'POST', body: '{}' });
    const signal = new AbortController().signal;
    const got: unknown[] = [];
    const err = await (async () => {
      try {
        for await (const batch of readSseBatches(res, decode, signal)) got.push(...batch);
      } catch (e) { return e; }
      return null;
    })();
    expect(got).toEqual([{ n: 1 }, { n: 2 }]);
    expect(err).toBeInstanceOf(SyntaxError);
    expect(classifyProviderError(err)).toMatchObject({ code: 'provider_stream', opts: { retryable: false } });
  });

  it('an incomplete last message (no blank line before the end) is dropped', async () => {
    const batches = await read({ chunks: ['data: whole\n\n', 'data: cut'] }, asIs);
    expect(batches.flat().map((m) => m.data)).toEqual(['whole']);
  });

  it('the signal aborting mid-stream ends the iteration quietly; the connection is released', async () => {
    const ac = new AbortController();
    server.push({ name: 'hang', chunks: ['data: a\n\n'], then: 'hang' });
    const res = await fetch(server.url, { method: 'POST', body: '{}', signal: ac.signal });
    const got: string[] = [];
    for await (const batch of readSseBatches(res, (m) => m.data, ac.signal)) {
      got.push(...batch);
      ac.abort();
    }
    expect(got).toEqual(['a']);
    await server.responseClosed(0);
  });

  it('leaving early (break) cancels the body: the server sees the response closed', async () => {
    server.push({ name: 'hang', chunks: ['data: a\n\n'], then: 'hang' });
    const res = await fetch(server.url, { method: 'POST', body: '{}' });
    for await (const batch of readSseBatches(res, (m) => m.data, new AbortController().signal)) {
      expect(batch).toEqual(['a']);
      break;
    }
    await server.responseClosed(0);
  });

  it('the connection reset mid-stream → the network error, classified provider_stream (retryable)', async () => {
    server.push({ name: 'reset', chunks: ['data: a\n\n'], then: 'destroy' });
    const res = await fetch(server.url, { method: 'POST', body: '{}' });
    const got: string[] = [];
    const err = await (async () => {
      try {
        for await (const batch of readSseBatches(res, (m) => m.data, new AbortController().signal)) got.push(...batch);
      } catch (e) { return e; }
      return null;
    })();
    expect(got).toEqual(['a']);
    expect(err).not.toBeNull();
    expect(classifyProviderError(err)).toMatchObject({ code: 'provider_stream', opts: { retryable: true } });
  });
});

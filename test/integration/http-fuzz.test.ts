import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HTTP_ERRORS } from '../../src/protocol/errors';
import { expectErrorShape, rawRequest, type RawAnswer } from '../helpers/raw-http';
import { startServer, tempDir, type TempDir, type TestServer } from '../helpers/server';

/**
 * Generated requests (fixed seed) over methods × paths (known routes, encoded junk, long ids,
 * prefixes) × headers (Host, Content-Type, Accept, lengths and framing, Expect, Upgrade, huge ones) ×
 * bodies, sent raw to the real server: every request gets an HTTP answer, none is 5xx, and
 * every error answer has the documented shape with a code of the table and its status.
 * (`PRI`, the HTTP/2 preface, is left out: Node drops it without an answer by design.)
 */

const RUNS = 1000;
let dir: TempDir;
let srv: TestServer;

beforeAll(async () => {
  dir = tempDir();
  srv = await startServer(dir, { args: ['--request-timeout', '5', '--body-limit', '4KiB', '--allowed-hosts', 'chat.example'] });
});
afterAll(async () => {
  await srv?.close();
  dir?.remove();
});

const METHOD = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE') },
  { weight: 2, arbitrary: fc.constantFrom('PATCH', 'HEAD', 'OPTIONS', 'TRACE', 'PROPFIND', 'M-SEARCH', 'CONNECT', 'FOO', 'get') },
);

const ID = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/) },
  { weight: 3, arbitrary: fc.constantFrom('fz-1', 'fz-1', 'a'.repeat(100), 'b'.repeat(101), 'c'.repeat(128), 'd'.repeat(129), 'e'.repeat(1100)) },
  fc.constantFrom('%FF', '%c0%ae%c0%ae', '..%2f..%2fetc%2fpasswd', '%2e%2e', '%00', 'caf%C3%A9', '%', '%zz', 'a%2', '%E2%80%AE', '..', '.', '*', 'a b', 'x;y', '😀'),
  fc.string({ maxLength: 12 }).map(encodeURIComponent),
);

const PATH = fc.oneof(
  fc.constantFrom(
    '/',
    '/chat',
    '/chat/fast',
    '/chat/nope',
    '/ws',
    '/api/timeline',
    '/api/conversations',
    '/api/chat/profiles',
    '/api/chat/profile',
    '/api/debug/step/enable',
    '/api/debug/continue',
    '/healthz',
    '/readyz',
    '/metrics',
    '/assets/index.js.map',
    '/assets/missing.js',
    '/c/some-conversation',
    '/nope',
    '*',
    'http://127.0.0.1/healthz',
  ),
  fc
    .tuple(fc.constantFrom('', '/events', '/turns', '/cancel', '/step-mode', '/pauses/', '/x', '/'), ID, ID)
    .map(([sub, id, id2]) => `/api/conversations/${id}${sub}${sub === '/pauses/' ? id2 : ''}`),
  fc.tuple(fc.constantFrom('//', '/./', '/api/../', '/%2e%2e/', '/api//conversations/', '/API/'), ID).map(([p, id]) => `${p}${id}`),
);

const QUERY = fc.oneof(
  fc.constant(''),
  ID.map((id) => `?conv_id=${id}`),
  fc.constantFrom('?since=-1', '?since=1&since=2', '?limit=abc', '?limit=100', '?conv_id=a&conv_id=b', '?%FF=1', '?full=1', '?runtime_key=nope', '?'),
);

const HOST = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom<string | null>('127.0.0.1', 'localhost:8080', '[::1]', 'LOCALHOST', 'chat.example') },
  { weight: 2, arbitrary: fc.constantFrom<string | null>('evil.example', '', null, 'a b', 'localhost.evil.example') },
);
const CONTENT_TYPE = fc.constantFrom<string | null>(
  null,
  'application/json',
  'application/json',
  'application/json; charset=utf-8',
  'Application/JSON',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/json; charset=latin1',
  '*/*',
  ';;;',
);
const ACCEPT = fc.constantFrom<string | null>(null, 'text/html', 'application/json', '*/*');
type Extra =
  | 'none'
  | 'huge-header'
  | 'expect-continue'
  | 'expect-other'
  | 'chunked'
  | 'upgrade'
  | 'idempotency-long'
  | 'cookie'
  | 'length-short'
  | 'length-bad'
  | 'length-huge';
const EXTRA = fc.oneof(
  { weight: 7, arbitrary: fc.constant<Extra>('none') },
  {
    weight: 3,
    arbitrary: fc.constantFrom<Extra>(
      'huge-header',
      'expect-continue',
      'expect-other',
      'chunked',
      'upgrade',
      'idempotency-long',
      'cookie',
      'length-short',
      'length-bad',
      'length-huge',
    ),
  },
);
const BODY = fc.oneof(
  fc.constantFrom(
    '',
    '',
    '{}',
    '{"prompt":"hi"}',
    '{"prompt":"hi","conv_id":"fz-1"}',
    '{"prompt":',
    '[]',
    'null',
    '"x"',
    '{"enabled":true}',
    '{"action":"continue"}',
    '{"slug":"fast"}',
    '{"__proto__":{"x":1}}',
    '{"constructor":{"prototype":{}}}',
    'x'.repeat(5000),
    '\u0000\u00ff',
  ),
  fc.json({ maxDepth: 2 }),
);

interface Req {
  method: string;
  target: string;
  host: string | null;
  contentType: string | null;
  accept: string | null;
  extra: Extra;
  body: string;
}

const REQ: fc.Arbitrary<Req> = fc.record({
  method: METHOD,
  target: fc.tuple(PATH, QUERY).map(([p, q]) => p + q),
  host: HOST,
  contentType: CONTENT_TYPE,
  accept: ACCEPT,
  extra: EXTRA,
  body: BODY,
});

function render(r: Req, port: number): string {
  const h: [string, string][] = [];
  if (r.host !== null) h.push(['Host', r.host.replace('8080', String(port))]);
  if (r.contentType !== null) h.push(['Content-Type', r.contentType]);
  if (r.accept !== null) h.push(['Accept', r.accept]);
  let body = r.body;
  let connection = 'close';
  switch (r.extra) {
    case 'huge-header':
      h.push(['X-Huge', 'h'.repeat(17_000)]);
      break;
    case 'expect-continue':
      h.push(['Expect', '100-continue']);
      break;
    case 'expect-other':
      h.push(['Expect', 'x-other']);
      break;
    case 'upgrade':
      connection = 'Upgrade';
      h.push(['Upgrade', 'websocket'], ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='], ['Sec-WebSocket-Version', '13']);
      break;
    case 'idempotency-long':
      h.push(['Idempotency-Key', 'k'.repeat(300)]);
      break;
    case 'cookie':
      h.push(['Cookie', 'chat_profile=nope; x=%FF']);
      break;
    default:
      break;
  }
  const length = Buffer.byteLength(body);
  if (r.extra === 'chunked' && body !== '') {
    h.push(['Transfer-Encoding', 'chunked']);
    body = `${length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
  } else if (r.extra === 'length-short') h.push(['Content-Length', String(Math.floor(length / 2))]); // the rest reads as a second request
  else if (r.extra === 'length-bad') h.push(['Content-Length', '12abc']);
  else if (r.extra === 'length-huge') h.push(['Content-Length', '104857600']); // over the limit; never sent
  else if (body !== '') h.push(['Content-Length', String(length)]);
  h.push(['Connection', connection]);
  return `${r.method} ${r.target} HTTP/1.1\r\n${h.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n${body}`;
}

const STATUSES = new Set<number>(Object.values(HTTP_ERRORS));

function check(r: Req, a: RawAnswer | null): void {
  const what = `${r.method} ${r.target.slice(0, 120)} (host ${r.host}, type ${r.contentType}, ${r.extra}) → ${a ? a.text.slice(0, 300) : 'no answer'}`;
  expect(a, what).not.toBeNull();
  expect(a!.status, what).toBeLessThan(500);
  if (a!.status < 400) return;
  if (r.method === 'HEAD' && a!.body === '') {
    expect(STATUSES.has(a!.status), what).toBe(true);
    return;
  }
  expectErrorShape(a);
}

describe('generated hostile requests', () => {
  it(`${RUNS} requests: an answer each, never 5xx, every error in the documented shape`, async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(REQ, async (r) => {
        const a = await rawRequest(srv.port, render(r, srv.port), { head: r.method === 'HEAD', timeoutMs: 8000 });
        if (a) statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
        check(r, a);
      }),
      { seed: 20261206, numRuns: RUNS, endOnFailure: true },
    );
    // The generator reaches the interesting answers (not only 404s).
    for (const s of [200, 400, 403, 404, 405, 413, 415, 431]) expect(statuses.get(s) ?? 0, `answers with ${s}: ${JSON.stringify([...statuses])}`).toBeGreaterThan(0);
    expect((await srv.api.get('/healthz')).status).toBe(200);
    expect((await srv.api.get('/readyz')).status).toBe(200);
  }, 60_000);
});

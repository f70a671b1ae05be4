import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectErrorShape, httpText, rawRequest } from '../helpers/raw-http';
import { startServer, tempDir, type TempDir, type TestServer } from '../helpers/server';
import { WsClient } from '../helpers/ws-client';

/**
 * What a hostile or careless client sends, against the real server: every answer (router,
 * Fastify, Node's HTTP parser, WebSocket handshake) has the documented error shape and code;
 * long ids reach every route; slow clients are dropped with 408; cross-site simple requests
 * and foreign `Host` names change nothing.
 */

const TIMEOUT_S = 1;
let dir: TempDir;
let srv: TestServer;
const sockets: WsClient[] = [];

beforeAll(async () => {
  dir = tempDir();
  srv = await startServer(dir, {
    args: ['--request-timeout', String(TIMEOUT_S), '--allowed-hosts', 'chat.example,.corp.example', '--public-url', 'https://public.example:8443/ui'],
  });
});
afterAll(async () => {
  for (const s of sockets) s.terminate();
  await srv?.close();
  dir?.remove();
});

const WS_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const wsHeaders = (host: string) => ({ Host: host, Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Key': WS_KEY, 'Sec-WebSocket-Version': '13' });
/** A WebSocket handshake (without `Connection: close`, which would contradict the upgrade). */
const wsText = (path: string, headers: Record<string, string>) =>
  `GET ${path} HTTP/1.1\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`;
const json = { 'Content-Type': 'application/json' };

interface RawCase {
  name: string;
  request: string;
  status: number;
  code: string;
}

const RAW_CASES: RawCase[] = [
  { name: 'unknown method FOO', request: httpText('FOO', '/chat'), status: 400, code: 'bad_request' },
  { name: 'lower-case method', request: httpText('get', '/healthz'), status: 400, code: 'bad_request' },
  { name: 'over-long header (20 KB)', request: httpText('GET', '/healthz', { 'X-Big': 'a'.repeat(20_000) }), status: 431, code: 'headers_too_large' },
  { name: 'over-long URL (20 KB)', request: httpText('GET', `/${'a'.repeat(20_000)}`), status: 431, code: 'headers_too_large' },
  { name: 'bad percent-encoding in an id', request: httpText('GET', '/api/conversations/%FF'), status: 400, code: 'bad_request' },
  { name: 'overlong UTF-8 dot-dot', request: httpText('GET', '/%c0%ae%c0%ae/etc/passwd'), status: 400, code: 'bad_request' },
  { name: 'truncated escape', request: httpText('GET', '/api/conversations/a%2'), status: 400, code: 'bad_request' },
  { name: 'id of 129 characters', request: httpText('GET', `/api/conversations/${'a'.repeat(129)}`), status: 400, code: 'bad_request' },
  { name: 'HTTP/3.7', request: 'GET /healthz HTTP/3.7\r\nHost: 127.0.0.1\r\n\r\n', status: 400, code: 'bad_request' },
  { name: 'garbage request line', request: 'hello there\r\n\r\n', status: 400, code: 'bad_request' },
  { name: 'space in a header name', request: 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header: x\r\n\r\n', status: 400, code: 'bad_request' },
  { name: 'Content-Length and Transfer-Encoding', request: httpText('POST', '/chat', { ...json, 'Content-Length': '2', 'Transfer-Encoding': 'chunked' }, '{}'), status: 400, code: 'bad_request' },
  { name: 'two Content-Lengths', request: 'POST /chat HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}', status: 400, code: 'bad_request' },
  { name: 'bad chunk size', request: httpText('POST', '/chat', { ...json, 'Transfer-Encoding': 'chunked' }, 'zz\r\n{}\r\n0\r\n\r\n'), status: 400, code: 'bad_request' },
  { name: 'CONNECT', request: 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', status: 405, code: 'method_not_allowed' },
  { name: 'Expect: other than 100-continue', request: httpText('POST', '/chat', { ...json, Expect: 'x-magic' }, '{"prompt":"hi"}'), status: 417, code: 'expectation_failed' },
  { name: 'no Host header', request: httpText('GET', '/api/conversations', { Host: null }), status: 400, code: 'bad_request' },
  { name: 'Host: evil.example', request: httpText('GET', '/api/conversations', { Host: 'evil.example' }), status: 403, code: 'forbidden' },
  { name: 'Host: evil.example on /ws', request: wsText('/ws?conv_id=h1', wsHeaders('evil.example')), status: 403, code: 'forbidden' },
  { name: 'Host: localhost.evil.example', request: httpText('GET', '/healthz', { Host: 'localhost.evil.example' }), status: 403, code: 'forbidden' },
  { name: 'WebSocket handshake without a key', request: wsText('/ws?conv_id=h1', { Host: '127.0.0.1', Upgrade: 'websocket', Connection: 'Upgrade' }), status: 400, code: 'bad_request' },
  { name: 'WebSocket handshake, bad version', request: wsText('/ws?conv_id=h1', { ...wsHeaders('127.0.0.1'), 'Sec-WebSocket-Version': '99' }), status: 400, code: 'bad_request' },
  { name: 'WebSocket upgrade by POST', request: `POST /ws?conv_id=h1 HTTP/1.1\r\n${Object.entries(wsHeaders('127.0.0.1')).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`, status: 405, code: 'method_not_allowed' },
  { name: 'WebSocket upgrade elsewhere', request: wsText('/chat', wsHeaders('127.0.0.1')), status: 404, code: 'not_found' },
  { name: 'POST cancel without a body', request: httpText('POST', '/api/conversations/h1/cancel'), status: 415, code: 'unsupported_media_type' },
  { name: 'POST cancel, text/plain', request: httpText('POST', '/api/conversations/h1/cancel', { 'Content-Type': 'text/plain' }, '{}'), status: 415, code: 'unsupported_media_type' },
  { name: 'POST /chat, form', request: httpText('POST', '/chat', { 'Content-Type': 'application/x-www-form-urlencoded' }, 'prompt=hi'), status: 415, code: 'unsupported_media_type' },
  { name: 'source map', request: httpText('GET', '/assets/index.js.map'), status: 404, code: 'not_found' },
];

describe('raw requests → the documented error shape and code', () => {
  it.each(RAW_CASES)('$name → $status $code', async (c) => {
    const a = await rawRequest(srv.port, c.request);
    expect(a?.status, a?.text.slice(0, 300)).toBe(c.status);
    expectErrorShape(a, c.code);
  });

  it('a body sent one byte at a time is cut off: 408 request_timeout, and the cancel never happened', async () => {
    const convId = 'slow-1';
    expect((await srv.api.chat({ prompt: '/stream 400 20', conv_id: convId })).status).toBe(200);
    await srv.api.waitState(convId, (s) => s.running !== null, 'run to start');
    const body = JSON.stringify({ clear_queue: true });
    const head = `POST /api/conversations/${convId}/cancel HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    // One byte every 200 ms: the whole body would take ~4 s, the limit is 1 s.
    const a = await rawRequest(srv.port, '', { chunks: [head, ...body.split('')], gapMs: 200 });
    expect(a?.status).toBe(408);
    expectErrorShape(a, 'request_timeout');
    expect(a!.headers.connection).toBe('close');
    const state = (await srv.api.conversation(convId)).json;
    expect(state.running).not.toBeNull();
    expect((await srv.api.cancel(convId)).status).toBe(200);
    await srv.api.waitIdle(convId);
  });

  it('a connection that never sends a request is closed with 408', async () => {
    const a = await rawRequest(srv.port, '', { chunks: [] });
    expectErrorShape(a, 'request_timeout');
  });

  it('headers dribbled in past the timeout → 408', async () => {
    const a = await rawRequest(srv.port, '', { chunks: ['GET /healthz HTTP/1.1\r\n', 'Host: 127.0.0.1\r\n', 'X-A: 1\r\n', 'X-B: 2\r\n', 'X-C: 3\r\n', 'X-D: 4\r\n', '\r\n'], gapMs: 400 });
    expectErrorShape(a, 'request_timeout');
  });

  it('a WebSocket outlives the request timeout (the timeout is for requests, not sockets)', async () => {
    const ws = await WsClient.open(srv.wsBase, 'ws-long-1');
    sockets.push(ws);
    // Past the timeout and Node's check interval (a condition, not a measurement).
    await new Promise((r) => setTimeout(r, TIMEOUT_S * 1000 * 2.5));
    expect(ws.closeInfo).toBeNull();
    ws.send('ping');
    await ws.waitType('ws.pong');
    // A keep-alive HTTP connection between requests is not a slow request either.
    expect((await srv.api.get('/healthz')).status).toBe(200);
  });
});

describe('a 128-character id works on every /api/conversations/:id route', () => {
  const id = `${'L'.repeat(120)}-_09abcd`;
  it('GET, events, turns, step-mode, pauses, cancel, DELETE', async () => {
    expect(id).toHaveLength(128);
    const api = srv.api;
    const path = `/api/conversations/${id}`;
    expect((await api.chat({ prompt: '/stream 2 0', conv_id: id })).status).toBe(200);
    await api.waitIdle(id);
    expect((await api.get(path)).json).toMatchObject({ conv_id: id });
    const events = await api.get(`${path}/events?since=0`);
    expect([events.status, events.json.frames.length > 0]).toEqual([200, true]);
    const turns = await api.get(`${path}/turns`);
    expect([turns.status, turns.json.conv_id]).toEqual([200, id]);
    expect((await api.request('PUT', `${path}/step-mode`, { json: { enabled: true } })).json).toEqual({ step_mode: true });
    expect((await api.chat({ prompt: 'What is 6*7?', conv_id: id })).status).toBe(200);
    const paused = await api.waitState(id, (s) => s.open_pauses.length > 0, 'a pause');
    const pauseId = paused.open_pauses[0].pause_id as string;
    const resolved = await api.post(`${path}/pauses/${pauseId}`, { action: 'continue' });
    expect([resolved.status, resolved.json.ok]).toEqual([200, true]);
    // The longest pause id the protocol allows still reaches the route (404 pause_not_found, not a router 404/414).
    const longPause = await api.post(`${path}/pauses/${'p'.repeat(256)}`, { action: 'continue' });
    expect([longPause.status, longPause.json.error.code]).toEqual([404, 'pause_not_found']);
    expect((await api.request('PUT', `${path}/step-mode`, { json: { enabled: false } })).status).toBe(200);
    expect((await api.cancel(id, { clear_queue: true })).status).toBe(200);
    await api.waitIdle(id);
    expect((await api.del(path)).status).toBe(204);
    const gone = await api.get(path);
    expect([gone.status, gone.json.error.code]).toEqual([410, 'conversation_deleted']);
  });

  it('the list and the timeline show it too; 129 characters is refused everywhere with bad_request', async () => {
    const id2 = `${'k'.repeat(128)}`;
    expect((await srv.api.chat({ prompt: '/stream 1 0', conv_id: id2 })).status).toBe(200);
    await srv.api.waitIdle(id2);
    expect((await srv.api.timeline(id2)).status).toBe(200);
    const list = (await srv.api.get('/api/conversations?limit=100')).json;
    expect(list.items.map((c: { conv_id: string }) => c.conv_id)).toContain(id2);
    const long = 'k'.repeat(129);
    for (const [method, sub, body] of [
      ['GET', '', undefined],
      ['DELETE', '', undefined],
      ['POST', '/cancel', {}],
      ['GET', '/events', undefined],
      ['GET', '/turns', undefined],
      ['PUT', '/step-mode', { enabled: true }],
      ['POST', '/pauses/p1', { action: 'continue' }],
    ] as const) {
      const r = await srv.api.request(method, `/api/conversations/${long}${sub}`, body === undefined ? {} : { json: body });
      expect([method, sub, r.status, r.json?.error?.code]).toEqual([method, sub, 400, 'bad_request']);
    }
  });
});

describe('cross-site simple requests cannot stop a run', () => {
  it('cancel without a JSON content type → 415, the run keeps running; with {} it stops', async () => {
    const convId = 'xsite-1';
    expect((await srv.api.chat({ prompt: '/stream 400 20', conv_id: convId })).status).toBe(200);
    await srv.api.waitState(convId, (s) => s.running !== null, 'run to start');
    const url = `${srv.base}/api/conversations/${convId}/cancel`;
    const attempts: RequestInit[] = [
      { method: 'POST', mode: 'no-cors' },
      { method: 'POST', mode: 'no-cors', body: '{}', headers: { 'content-type': 'text/plain' } },
      { method: 'POST', mode: 'no-cors', body: 'clear_queue=true', headers: { 'content-type': 'application/x-www-form-urlencoded' } },
      { method: 'POST', body: new FormData() },
    ];
    for (const init of attempts) {
      const res = await fetch(url, init);
      const body = await res.json();
      expect([res.status, body.error.code]).toEqual([415, 'unsupported_media_type']);
    }
    const state = (await srv.api.conversation(convId)).json;
    expect(state.running).not.toBeNull();
    const log = await srv.api.allEvents(convId);
    expect(log.frames.filter((f) => f.event.type === 'run.end')).toEqual([]);
    const ok = await srv.api.cancel(convId, {});
    expect(ok.status).toBe(200);
    await srv.api.waitIdle(convId);
  });
});

describe('Host check (no auth): DNS rebinding', () => {
  const hostsAccepted = ['localhost', `localhost:${0}`, 'LOCALHOST', '127.0.0.1', '127.0.0.1:9', '[::1]', '[::1]:8080', 'chat.example', 'Chat.Example:443', 'corp.example', 'a.corp.example', 'public.example:8443', 'public.example'];
  const hostsRefused = ['evil.example', 'evil.example:80', '127.0.0.1.evil.example', 'x.chat.example', 'evilcorp.example', '127.0.0.2', '0.0.0.0', '[::2]'];

  it.each(hostsAccepted)('HTTP Host %s is served', async (host) => {
    const a = await rawRequest(srv.port, httpText('GET', '/api/conversations?limit=1', { Host: host }));
    expect(a?.status, a?.text).toBe(200);
  });

  it.each(hostsRefused)('HTTP Host %s → 403 forbidden, naming the host and the flag', async (host) => {
    const a = await rawRequest(srv.port, httpText('POST', '/chat', { Host: host, ...json }, '{"prompt":"hi","conv_id":"never-made"}'));
    const body = expectErrorShape(a, 'forbidden');
    expect(body.error.message).toContain(host);
    expect(body.error.message).toContain('--allowed-hosts');
  });

  it('nothing was created by refused hosts', async () => {
    expect((await srv.api.conversation('never-made')).status).toBe(404);
  });

  it('/ws: a refused Host gets 403 before any upgrade; an allowed one switches protocols', async () => {
    for (const host of hostsRefused) {
      const a = await rawRequest(srv.port, wsText('/ws?conv_id=h2', wsHeaders(host)));
      expectErrorShape(a, 'forbidden');
    }
    for (const host of ['localhost', `127.0.0.1:${srv.port}`, '[::1]', 'chat.example']) {
      const a = await rawRequest(srv.port, wsText('/ws?conv_id=h2', wsHeaders(host)));
      expect([host, a?.status]).toEqual([host, 101]);
    }
  });

  it("/ws: a browser page of another site (its Origin) is refused; the server's own pages are not", async () => {
    for (const origin of ['https://evil.example', 'null', 'http://127.0.0.1.evil.example']) {
      const a = await rawRequest(srv.port, wsText('/ws?conv_id=h3', { ...wsHeaders(`127.0.0.1:${srv.port}`), Origin: origin }));
      expect(expectErrorShape(a, 'forbidden').error.details).toEqual({ origin });
    }
    for (const origin of [`http://127.0.0.1:${srv.port}`, 'http://localhost:5173', 'https://public.example:8443']) {
      const a = await rawRequest(srv.port, wsText('/ws?conv_id=h3', { ...wsHeaders(`127.0.0.1:${srv.port}`), Origin: origin }));
      expect([origin, a?.status]).toEqual([origin, 101]);
    }
  });
});

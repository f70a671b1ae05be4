import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorBody } from '../protocol/errors';
import { WebchatError } from '../webchat/webchat-error';
import { buildApp } from './app';
import { parseConfig } from './config';
import { createMetrics } from './metrics';
import { fakeChatService } from './testing/fake-chat-service';
import { testApp, type TestApp } from './testing/test-app';

/** The bad-input table of protocol.md: status, code, error shape, and the service untouched. */

type Case = {
  name: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';
  url: string;
  body?: string;
  headers?: Record<string, string>;
  status: number;
  code: string;
};

const json = { 'content-type': 'application/json' };
const chat = (body: unknown, extra: Partial<Case> = {}): Pick<Case, 'method' | 'url' | 'body' | 'headers'> => ({
  method: 'POST',
  url: '/chat',
  body: JSON.stringify(body),
  headers: json,
  ...extra,
});

const CASES: Case[] = [
  { name: 'invalid JSON', method: 'POST', url: '/chat', body: '{"prompt":', headers: json, status: 400, code: 'invalid_json' },
  { name: 'empty JSON body', method: 'POST', url: '/chat', body: '', headers: json, status: 400, code: 'invalid_json' },
  { name: 'prompt of wrong type', ...chat({ prompt: 5 }), status: 400, code: 'bad_request' },
  { name: 'body is an array', ...chat([]), status: 400, code: 'bad_request' },
  { name: 'body is a string', ...chat('hi'), status: 400, code: 'bad_request' },
  { name: 'missing prompt', ...chat({}), status: 400, code: 'missing_prompt' },
  { name: 'blank prompt', ...chat({ prompt: '  \n\t ' }), status: 400, code: 'missing_prompt' },
  { name: 'blank text alias', ...chat({ text: '' }), status: 400, code: 'missing_prompt' },
  { name: 'no body at all', method: 'POST', url: '/chat', status: 415, code: 'unsupported_media_type' },
  { name: 'prompt over max-prompt-chars', ...chat({ prompt: 'x'.repeat(21) }), status: 400, code: 'bad_request' },
  { name: 'conv_id not matching the pattern', ...chat({ prompt: 'hi', conv_id: 'bad id!' }), status: 400, code: 'bad_request' },
  { name: 'conv_id too long', ...chat({ prompt: 'hi', conv_id: 'a'.repeat(129) }), status: 400, code: 'bad_request' },
  { name: 'conv_id empty', ...chat({ prompt: 'hi', conv_id: '' }), status: 400, code: 'bad_request' },
  { name: 'unknown override key', ...chat({ prompt: 'hi', request_overrides: { model: 'x' } }), status: 400, code: 'bad_request' },
  { name: 'override of wrong type', ...chat({ prompt: 'hi', request_overrides: { temperature: 'hot' } }), status: 400, code: 'bad_request' },
  { name: 'idempotency key too long', ...chat({ prompt: 'hi', idempotency_key: 'k'.repeat(257) }), status: 400, code: 'bad_request' },
  {
    name: 'Idempotency-Key header and body differ',
    ...chat({ prompt: 'hi', idempotency_key: 'a' }),
    headers: { ...json, 'idempotency-key': 'b' },
    status: 400,
    code: 'bad_request',
  },
  { name: 'unknown profile in body', ...chat({ prompt: 'hi', runtime_key: 'nope' }), status: 404, code: 'unknown_profile' },
  { name: 'unknown profile in path', ...chat({ prompt: 'hi' }), url: '/chat/nope', status: 404, code: 'unknown_profile' },
  { name: 'bad conversation id in path', method: 'GET', url: '/api/conversations/bad%20id', status: 400, code: 'bad_request' },
  { name: 'since=-1', method: 'GET', url: '/api/conversations/c1/events?since=-1', status: 400, code: 'bad_request' },
  { name: 'since=abc', method: 'GET', url: '/api/conversations/c1/events?since=abc', status: 400, code: 'bad_request' },
  { name: 'since=1.5', method: 'GET', url: '/api/conversations/c1/events?since=1.5', status: 400, code: 'bad_request' },
  { name: 'since= (empty)', method: 'GET', url: '/api/conversations/c1/events?since=', status: 400, code: 'bad_request' },
  { name: 'since twice', method: 'GET', url: '/api/conversations/c1/events?since=1&since=2', status: 400, code: 'bad_request' },
  { name: 'limit=0', method: 'GET', url: '/api/conversations/c1/events?limit=0', status: 400, code: 'bad_request' },
  { name: 'limit=10001', method: 'GET', url: '/api/conversations/c1/events?limit=10001', status: 400, code: 'bad_request' },
  { name: 'list limit=0', method: 'GET', url: '/api/conversations?limit=0', status: 400, code: 'bad_request' },
  { name: 'list limit=101', method: 'GET', url: '/api/conversations?limit=101', status: 400, code: 'bad_request' },
  { name: 'turns full=maybe', method: 'GET', url: '/api/conversations/c1/turns?full=maybe', status: 400, code: 'bad_request' },
  { name: 'timeline without conv_id', method: 'GET', url: '/api/timeline', status: 400, code: 'bad_request' },
  { name: 'timeline bad conv_id', method: 'GET', url: '/api/timeline?conv_id=a%2Fb', status: 400, code: 'bad_request' },
  {
    name: 'cancel with wrong types',
    method: 'POST',
    url: '/api/conversations/c1/cancel',
    body: JSON.stringify({ clear_queue: 'yes' }),
    headers: json,
    status: 400,
    code: 'bad_request',
  },
  {
    name: 'step-mode without enabled',
    method: 'PUT',
    url: '/api/conversations/c1/step-mode',
    body: '{}',
    headers: json,
    status: 400,
    code: 'bad_request',
  },
  {
    name: 'pause with unknown action',
    method: 'POST',
    url: '/api/conversations/c1/pauses/p1',
    body: JSON.stringify({ action: 'explode' }),
    headers: json,
    status: 400,
    code: 'bad_request',
  },
  { name: 'debug continue without pause_id', method: 'POST', url: '/api/debug/continue', body: '{}', headers: json, status: 400, code: 'bad_request' },
  {
    name: 'debug step with bad conv_id',
    method: 'POST',
    url: '/api/debug/step/enable',
    body: JSON.stringify({ conv_id: 'a b' }),
    headers: json,
    status: 400,
    code: 'bad_request',
  },
  { name: 'select profile without slug', method: 'POST', url: '/api/chat/profile', body: '{}', headers: json, status: 400, code: 'bad_request' },
  {
    name: 'select unknown profile',
    method: 'POST',
    url: '/api/chat/profile',
    body: JSON.stringify({ slug: 'nope' }),
    headers: json,
    status: 404,
    code: 'unknown_profile',
  },
  { name: 'body over the limit', ...chat({ prompt: 'x'.repeat(2048) }), status: 413, code: 'payload_too_large' },
  {
    name: 'text/plain body',
    method: 'POST',
    url: '/chat',
    body: '{"prompt":"hi"}',
    headers: { 'content-type': 'text/plain' },
    status: 415,
    code: 'unsupported_media_type',
  },
  {
    name: 'form body',
    method: 'POST',
    url: '/chat',
    body: 'prompt=hi',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    status: 415,
    code: 'unsupported_media_type',
  },
  { name: 'GET on a POST route', method: 'GET', url: '/chat', status: 405, code: 'method_not_allowed' },
  { name: 'DELETE on a GET route', method: 'DELETE', url: '/api/timeline?conv_id=c1', status: 405, code: 'method_not_allowed' },
  { name: 'PATCH on a conversation', method: 'PATCH', url: '/api/conversations/c1', body: '{}', headers: json, status: 405, code: 'method_not_allowed' },
  {
    name: 'wrong method wins over a wrong content type',
    method: 'PUT',
    url: '/api/conversations/c1/cancel',
    body: 'x',
    headers: { 'content-type': 'text/plain' },
    status: 405,
    code: 'method_not_allowed',
  },
  { name: 'POST on /healthz', method: 'POST', url: '/healthz', status: 405, code: 'method_not_allowed' },
  { name: 'unknown API route', method: 'GET', url: '/api/nope', status: 404, code: 'not_found' },
  { name: 'bad percent-encoding in a path parameter', method: 'GET', url: '/api/conversations/%FF', status: 400, code: 'bad_request' },
  { name: 'overlong UTF-8 in the path', method: 'GET', url: '/%c0%ae%c0%ae/etc/passwd', status: 400, code: 'bad_request' },
  { name: 'path parameter over 1024 characters', method: 'GET', url: `/api/conversations/${'a'.repeat(1100)}`, status: 414, code: 'uri_too_long' },
  { name: 'POST without a JSON content type', method: 'POST', url: '/api/conversations/c1/cancel', status: 415, code: 'unsupported_media_type' },
  {
    name: 'PUT with text/plain',
    method: 'PUT',
    url: '/api/conversations/c1/step-mode',
    body: '{"enabled":true}',
    headers: { 'content-type': 'text/plain' },
    status: 415,
    code: 'unsupported_media_type',
  },
  { name: 'foreign Host', method: 'GET', url: '/api/conversations', headers: { host: 'evil.example' }, status: 403, code: 'forbidden' },
  { name: 'unknown route, POST', method: 'POST', url: '/nope', body: '{}', headers: json, status: 404, code: 'not_found' },
];

describe('bad-input table (protocol.md "Errors")', () => {
  let t: TestApp;
  afterEach(async () => t.app.close());

  it.each(CASES)('$name → $status $code, nothing called', async (c) => {
    t = testApp({ argv: ['--body-limit', '1KiB', '--max-prompt-chars', '20'] });
    const res = await t.app.inject({ method: c.method, url: c.url, payload: c.body, headers: c.headers });
    expect(res.statusCode).toBe(c.status);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const body = ErrorBody.parse(res.json());
    expect(body.error.code).toBe(c.code);
    expect(body.error.message).not.toBe('');
    expect(t.service.mutatingCalls()).toEqual([]);
  });

  it('every id the conv_id pattern accepts reaches the conversation routes (128 characters, all allowed characters)', async () => {
    t = testApp();
    const id = `${'a'.repeat(60)}${'Z'.repeat(60)}_-09xyzw`;
    expect(id).toHaveLength(128);
    const pause = 'p'.repeat(256);
    const routes: [Case['method'], string, unknown][] = [
      ['GET', '', undefined],
      ['DELETE', '', undefined],
      ['POST', '/cancel', {}],
      ['GET', '/events', undefined],
      ['GET', '/turns', undefined],
      ['PUT', '/step-mode', { enabled: true }],
      ['POST', `/pauses/${pause}`, { action: 'continue' }],
    ];
    for (const [method, sub, payload] of routes) {
      const res = await t.app.inject({ method, url: `/api/conversations/${id}${sub}`, payload: payload as object | undefined });
      expect([method, sub, res.statusCode]).toEqual([method, sub, method === 'DELETE' ? 204 : 200]);
    }
    const called = t.service.calls.filter((c) => c.method !== 'resolveProfileSlug' && c.method !== 'listProfiles');
    expect(called.map((c) => [c.method, c.args[0]])).toEqual([
      ['getConversation', id],
      ['deleteConversation', id],
      ['cancel', id],
      ['readEvents', id],
      ['getTurns', id],
      ['setStepMode', id],
      ['resolvePause', id],
    ]);
    expect(called.at(-1)!.args[1]).toBe(pause);
  });

  it('405 carries an Allow header listing the methods of the path', async () => {
    t = testApp();
    const res = await t.app.inject({ method: 'GET', url: '/chat' });
    expect(res.headers.allow).toBe('POST');
    const res2 = await t.app.inject({ method: 'PUT', url: '/api/conversations/c1' });
    expect(res2.headers.allow).toBe('DELETE, GET, HEAD');
    expect(res2.json().error.details.allow).toEqual(['DELETE', 'GET', 'HEAD']);
  });

  it('bad_request lists the zod issues in details', async () => {
    t = testApp();
    const res = await t.app.inject({ method: 'POST', url: '/chat', payload: { prompt: 5 } });
    const details = res.json().error.details;
    expect(details.issues[0]).toMatchObject({ path: 'prompt' });
  });

  it('413 details carry the limit', async () => {
    t = testApp({ argv: ['--body-limit', '1KiB'] });
    const res = await t.app.inject({ method: 'POST', url: '/chat', payload: { prompt: 'x'.repeat(4096) } });
    expect(res.json().error.details).toEqual({ limit_bytes: 1024 });
  });
});

describe('WebchatError pass-through', () => {
  let t: TestApp;
  afterEach(async () => t.app.close());

  const refusals: [string, WebchatError][] = [
    ['conversation_busy', new WebchatError('conversation_busy', 'busy', { inference_id: 'inf-9' })],
    ['queue_full', new WebchatError('queue_full', 'queue is full', { queue_depth: 16 })],
    ['conversation_deleted', new WebchatError('conversation_deleted', 'deleted')],
    ['idempotency_key_reused', new WebchatError('idempotency_key_reused', 'other prompt')],
    ['override_not_allowed', new WebchatError('override_not_allowed', 'no', { key: 'temperature' })],
  ];

  it.each(refusals)('submitPrompt throws %s → its status, code and details', async (_code, err) => {
    t = testApp({
      service: {
        submitPrompt: async () => {
          throw err;
        },
      },
    });
    const res = await t.app.inject({ method: 'POST', url: '/chat', payload: { prompt: 'hi' } });
    expect(res.statusCode).toBe(err.status);
    expect(res.json()).toEqual({ error: { code: err.code, message: err.message, details: err.details } });
  });

  it('other routes pass refusals through too (404, 409, 403)', async () => {
    t = testApp({
      service: {
        deleteConversation: async () => {
          throw new WebchatError('conversation_not_found', 'unknown conversation');
        },
        cancel: async () => {
          throw new WebchatError('stale_inference', 'not the active run', { inference_id: 'x' });
        },
        resolvePause: async () => {
          throw new WebchatError('forbidden', 'pause of another conversation');
        },
      },
    });
    expect((await t.app.inject({ method: 'DELETE', url: '/api/conversations/c1' })).statusCode).toBe(404);
    const c = await t.app.inject({ method: 'POST', url: '/api/conversations/c1/cancel', payload: { inference_id: 'x' } });
    expect([c.statusCode, c.json().error.code, c.json().error.details]).toEqual([409, 'stale_inference', { inference_id: 'x' }]);
    const p = await t.app.inject({ method: 'POST', url: '/api/debug/continue', payload: { pause_id: 'p1' } });
    expect([p.statusCode, p.json().error.code]).toEqual([403, 'forbidden']);
  });

  it('rate_limited sets retry-after', async () => {
    t = testApp({
      service: {
        submitPrompt: async () => {
          throw new WebchatError('rate_limited', 'slow down', { retry_after_s: 2.5 });
        },
      },
    });
    const res = await t.app.inject({ method: 'POST', url: '/chat', payload: { prompt: 'hi' } });
    expect(res.statusCode).toBe(429);
    expect(res.headers['retry-after']).toBe('3');
  });
});

describe('unexpected exceptions', () => {
  it('→ 500 internal with details.request_id, logged with that id, no error text leaked', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
        cb();
      },
    });
    const config = parseConfig([], {});
    const service = fakeChatService({
      listConversations: async () => {
        throw new TypeError('secret internal detail');
      },
    });
    const app = buildApp({ config, service, metrics: createMetrics({ processMetrics: false }), logger: pino({ level: 'error' }, sink), uiDir: '/nonexistent' });
    const res = await app.inject({ method: 'GET', url: '/api/conversations' });
    await app.close();
    expect(res.statusCode).toBe(500);
    const body = res.json();
    expect(body.error.code).toBe('internal');
    expect(body.error.message).not.toContain('secret');
    const requestId = body.error.details.request_id;
    expect(typeof requestId).toBe('string');
    expect(res.headers['x-request-id']).toBe(requestId);
    const logged = lines.find((l) => l.msg === 'unhandled error');
    expect(logged).toMatchObject({ request_id: requestId, level: 50 });
    expect(JSON.stringify(logged)).toContain('secret internal detail');
  });
});

describe('body limit on a real socket (no buffering of the whole body)', () => {
  let t: TestApp;
  afterEach(async () => t.app.close());

  /** Sends raw bytes, resolves with the response text once the server answers (never sends the rest). */
  const rawRequest = async (port: number, head: string, bodyChunk: string) =>
    new Promise<string>((resolve, reject) => {
      const sock = connect(port, '127.0.0.1');
      let got = '';
      sock.on('data', (d) => {
        got += String(d);
        if (got.includes('\r\n\r\n') && got.includes('"error"')) {
          sock.destroy();
          resolve(got);
        }
      });
      sock.on('error', reject);
      sock.on('close', () => resolve(got));
      sock.write(head + bodyChunk);
    });

  it('a declared Content-Length over the limit is refused before the body is sent', async () => {
    t = testApp({ argv: ['--body-limit', '1KiB'] });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = t.app.server.address() as AddressInfo;
    const head = 'POST /chat HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 104857600\r\n\r\n';
    const res = await rawRequest(port, head, '{"prompt":"');
    expect(res).toMatch(/^HTTP\/1\.1 413/);
    expect(res).toContain('"payload_too_large"');
    expect(t.service.mutatingCalls()).toEqual([]);
  });

  it('a chunked body is cut off as soon as it passes the limit', async () => {
    t = testApp({ argv: ['--body-limit', '1KiB'] });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = t.app.server.address() as AddressInfo;
    const head = 'POST /chat HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n';
    const chunk = 'x'.repeat(2048);
    // The terminating zero-length chunk is never sent: the server must answer without it.
    const res = await rawRequest(port, head, `${chunk.length.toString(16)}\r\n${chunk}\r\n`);
    expect(res).toMatch(/^HTTP\/1\.1 413/);
    expect(res).toContain('"payload_too_large"');
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorBody } from '../../src/protocol/errors';
import type { HttpResult } from '../helpers/http';
import { startServer, tempDir, type TempDir, type TestServer } from '../helpers/server';
import { frameProblems, refusedUpgrade, WsClient } from '../helpers/ws-client';

/**
 * The error table of protocol.md against the real server: each bad input gets its documented
 * status and code in the one error shape, and changes nothing (conversation list, states and
 * logs are byte-identical before and after every case).
 */

let dir: TempDir;
let srv: TestServer;
const EXISTING = 'bad-input-existing';
const PAUSED = 'bad-input-paused';
const DELETED = 'bad-input-deleted';
let pauseResolved = '';
let pauseOpen = '';

beforeAll(async () => {
  dir = tempDir();
  srv = await startServer(dir, { args: ['--max-prompt-chars', '1000'] });
  const api = srv.api;
  // an ordinary conversation with a finished run and an idempotency key
  expect((await api.chat({ prompt: 'hello', conv_id: EXISTING, idempotency_key: 'bad-input-key' })).status).toBe(200);
  await api.waitIdle(EXISTING);
  // a conversation in step mode: one resolved pause, one open (after_tools)
  const ws = await WsClient.open(srv.wsBase, PAUSED);
  expect((await api.chat({ prompt: 'What is 2+3?', conv_id: PAUSED, request_overrides: { step_mode: true } })).status).toBe(200);
  await ws.waitType('debugger.pause');
  pauseResolved = ws.ofType('debugger.pause')[0]!.id;
  expect((await api.post(`/api/conversations/${PAUSED}/pauses/${pauseResolved}`, { action: 'continue' })).status).toBe(200);
  await ws.waitType('debugger.pause', 2);
  pauseOpen = ws.ofType('debugger.pause')[1]!.id;
  expect(ws.ofType('debugger.pause')[1]!.data.phase).toBe('after_tools');
  await api.waitState(PAUSED, (s) => s.open_pauses.length === 1, 'the after_tools pause');
  ws.terminate();
  expect(frameProblems([ws])).toEqual([]);
  // a deleted conversation
  expect((await api.chat({ prompt: 'to be deleted', conv_id: DELETED })).status).toBe(200);
  await api.waitIdle(DELETED);
  expect((await api.del(`/api/conversations/${DELETED}`)).status).toBe(204);
});
afterAll(async () => {
  await srv?.close();
  dir?.remove();
});

/** Everything observable that a bad request must not change. */
async function observe() {
  const api = srv.api;
  const list = await api.get('/api/conversations?limit=100');
  const out: Record<string, unknown> = { list: list.text };
  for (const id of [EXISTING, PAUSED]) {
    out[`${id}:state`] = (await api.conversation(id)).text;
    out[`${id}:events`] = (await api.allEvents(id)).raw;
    const { serverTimeMs: _t, ...timeline } = (await api.timeline(id)).json;
    out[`${id}:timeline`] = timeline;
  }
  out.profile = (await api.get('/api/chat/profile')).text;
  return out;
}

type Case = {
  name: string;
  method: string;
  path: string;
  json?: unknown;
  body?: string | Buffer;
  headers?: Record<string, string>;
  status: number;
  code: string;
};

const big = Buffer.from(JSON.stringify({ prompt: 'x'.repeat(2 * 1024 * 1024) }));
const chat = (json: unknown, extra: Partial<Case> = {}) => ({ method: 'POST', path: '/chat', json, ...extra });

const CASES: Case[] = [
  // invalid_json
  { name: 'body is not JSON', method: 'POST', path: '/chat', body: '{"prompt": ', headers: { 'content-type': 'application/json' }, status: 400, code: 'invalid_json' },
  { name: 'empty JSON body', method: 'POST', path: '/chat', body: '', headers: { 'content-type': 'application/json' }, status: 400, code: 'invalid_json' },
  { name: 'cancel body not JSON', method: 'POST', path: `/api/conversations/${EXISTING}/cancel`, body: '{bad', headers: { 'content-type': 'application/json' }, status: 400, code: 'invalid_json' },
  // bad_request: wrong types, missing fields, bad query values, conv_id pattern
  { name: 'prompt is a number', ...chat({ prompt: 5, conv_id: EXISTING }), status: 400, code: 'bad_request' },
  { name: 'body is an array', ...chat(['hello']), status: 400, code: 'bad_request' },
  { name: 'conv_id with a space', ...chat({ prompt: 'hi', conv_id: 'bad id' }), status: 400, code: 'bad_request' },
  { name: 'conv_id too long', ...chat({ prompt: 'hi', conv_id: 'a'.repeat(129) }), status: 400, code: 'bad_request' },
  { name: 'prompt over --max-prompt-chars', ...chat({ prompt: 'y'.repeat(1001), conv_id: EXISTING }), status: 400, code: 'bad_request' },
  { name: 'empty idempotency key', ...chat({ prompt: 'hi', conv_id: EXISTING, idempotency_key: '' }), status: 400, code: 'bad_request' },
  { name: 'unknown override key', ...chat({ prompt: 'hi', conv_id: EXISTING, request_overrides: { colour: 'red' } }), status: 400, code: 'bad_request' },
  { name: 'temperature out of range', ...chat({ prompt: 'hi', conv_id: EXISTING, request_overrides: { temperature: 5 } }), status: 400, code: 'bad_request' },
  { name: 'header and body keys differ', ...chat({ prompt: 'hi', conv_id: EXISTING, idempotency_key: 'a' }, { headers: { 'Idempotency-Key': 'b' } }), status: 400, code: 'bad_request' },
  { name: 'events since=-1', method: 'GET', path: `/api/conversations/${EXISTING}/events?since=-1`, status: 400, code: 'bad_request' },
  { name: 'events since=abc', method: 'GET', path: `/api/conversations/${EXISTING}/events?since=abc`, status: 400, code: 'bad_request' },
  { name: 'events since=1.5', method: 'GET', path: `/api/conversations/${EXISTING}/events?since=1.5`, status: 400, code: 'bad_request' },
  { name: 'events since= (empty)', method: 'GET', path: `/api/conversations/${EXISTING}/events?since=`, status: 400, code: 'bad_request' },
  { name: 'events limit=0', method: 'GET', path: `/api/conversations/${EXISTING}/events?limit=0`, status: 400, code: 'bad_request' },
  { name: 'events limit=10001', method: 'GET', path: `/api/conversations/${EXISTING}/events?limit=10001`, status: 400, code: 'bad_request' },
  { name: 'conversation id pattern', method: 'GET', path: '/api/conversations/bad%20id', status: 400, code: 'bad_request' },
  { name: 'list limit=0', method: 'GET', path: '/api/conversations?limit=0', status: 400, code: 'bad_request' },
  { name: 'list limit=abc', method: 'GET', path: '/api/conversations?limit=abc', status: 400, code: 'bad_request' },
  { name: 'list cursor garbage', method: 'GET', path: '/api/conversations?cursor=garbage', status: 400, code: 'bad_request' },
  { name: 'timeline without conv_id', method: 'GET', path: '/api/timeline', status: 400, code: 'bad_request' },
  { name: 'timeline conv_id pattern', method: 'GET', path: '/api/timeline?conv_id=bad%20id', status: 400, code: 'bad_request' },
  { name: 'cancel inference_id a number', method: 'POST', path: `/api/conversations/${EXISTING}/cancel`, json: { inference_id: 5 }, status: 400, code: 'bad_request' },
  { name: 'cancel clear_queue a string', method: 'POST', path: `/api/conversations/${EXISTING}/cancel`, json: { clear_queue: 'yes' }, status: 400, code: 'bad_request' },
  { name: 'step-mode without enabled', method: 'PUT', path: `/api/conversations/${EXISTING}/step-mode`, json: {}, status: 400, code: 'bad_request' },
  { name: 'pause action unknown', method: 'POST', path: `/api/conversations/${PAUSED}/pauses/${'<open>'}`, json: { action: 'explode' }, status: 400, code: 'bad_request' },
  // missing_prompt
  { name: 'no prompt at all', ...chat({ conv_id: EXISTING }), status: 400, code: 'missing_prompt' },
  { name: 'prompt only whitespace', ...chat({ prompt: '  \n\t ', conv_id: EXISTING }), status: 400, code: 'missing_prompt' },
  { name: 'text alias empty', ...chat({ text: '', conv_id: EXISTING }), status: 400, code: 'missing_prompt' },
  // override_not_allowed
  { name: 'override the profile does not allow', ...chat({ prompt: 'hi', conv_id: EXISTING, runtime_key: 'rej', request_overrides: { busy_policy: 'queue' } }), status: 400, code: 'override_not_allowed' },
  { name: 'system_prompt not in allow_overrides', ...chat({ prompt: 'hi', conv_id: EXISTING, request_overrides: { system_prompt: 'be brief' } }), status: 400, code: 'override_not_allowed' },
  // forbidden: a pause of another conversation
  { name: 'pause of another conversation', method: 'POST', path: `/api/conversations/${EXISTING}/pauses/${'<open>'}`, json: { action: 'continue' }, status: 403, code: 'forbidden' },
  // conversation_not_found
  { name: 'state of an unknown conversation', method: 'GET', path: '/api/conversations/never-seen', status: 404, code: 'conversation_not_found' },
  { name: 'events of an unknown conversation', method: 'GET', path: '/api/conversations/never-seen/events', status: 404, code: 'conversation_not_found' },
  { name: 'turns of an unknown conversation', method: 'GET', path: '/api/conversations/never-seen/turns', status: 404, code: 'conversation_not_found' },
  { name: 'cancel an unknown conversation', method: 'POST', path: '/api/conversations/never-seen/cancel', json: {}, status: 404, code: 'conversation_not_found' },
  { name: 'delete an unknown conversation', method: 'DELETE', path: '/api/conversations/never-seen', status: 404, code: 'conversation_not_found' },
  { name: 'pause of an unknown conversation', method: 'POST', path: '/api/conversations/never-seen/pauses/p1', json: { action: 'continue' }, status: 404, code: 'conversation_not_found' },
  // unknown_profile
  { name: 'unknown profile in the path', ...chat({ prompt: 'hi', conv_id: EXISTING }, { path: '/chat/nope' }), status: 404, code: 'unknown_profile' },
  { name: 'unknown profile in the body', ...chat({ prompt: 'hi', conv_id: EXISTING, runtime_key: 'nope' }), status: 404, code: 'unknown_profile' },
  { name: 'unknown profile in the query', ...chat({ prompt: 'hi', conv_id: EXISTING }, { path: '/chat?runtime_key=nope' }), status: 404, code: 'unknown_profile' },
  { name: 'select an unknown profile', method: 'POST', path: '/api/chat/profile', json: { slug: 'nope' }, status: 404, code: 'unknown_profile' },
  // pause_not_found
  { name: 'unknown pause id', method: 'POST', path: `/api/conversations/${EXISTING}/pauses/no-such-pause`, json: { action: 'continue' }, status: 404, code: 'pause_not_found' },
  { name: 'unknown pause id (debug alias)', method: 'POST', path: '/api/debug/continue', json: { pause_id: 'no-such-pause' }, status: 404, code: 'pause_not_found' },
  // method_not_allowed
  { name: 'PUT /chat', method: 'PUT', path: '/chat', json: { prompt: 'hi' }, status: 405, code: 'method_not_allowed' },
  { name: 'GET /chat', method: 'GET', path: '/chat', status: 405, code: 'method_not_allowed' },
  { name: 'DELETE /api/timeline', method: 'DELETE', path: `/api/timeline?conv_id=${EXISTING}`, status: 405, code: 'method_not_allowed' },
  { name: 'POST /api/conversations', method: 'POST', path: '/api/conversations', json: {}, status: 405, code: 'method_not_allowed' },
  { name: 'PATCH a conversation', method: 'PATCH', path: `/api/conversations/${EXISTING}`, json: {}, status: 405, code: 'method_not_allowed' },
  // stale_inference, pause_resolved, invalid_action
  { name: 'cancel a stale inference', method: 'POST', path: `/api/conversations/${EXISTING}/cancel`, json: { inference_id: 'not-a-run' }, status: 409, code: 'stale_inference' },
  { name: 'resolve a resolved pause', method: 'POST', path: `/api/conversations/${PAUSED}/pauses/${'<resolved>'}`, json: { action: 'continue' }, status: 409, code: 'pause_resolved' },
  { name: 'deny at after_tools', method: 'POST', path: `/api/conversations/${PAUSED}/pauses/${'<open>'}`, json: { action: 'deny' }, status: 409, code: 'invalid_action' },
  // conversation_deleted
  { name: 'prompt to a deleted conversation', ...chat({ prompt: 'hi', conv_id: DELETED }), status: 410, code: 'conversation_deleted' },
  { name: 'state of a deleted conversation', method: 'GET', path: `/api/conversations/${DELETED}`, status: 410, code: 'conversation_deleted' },
  { name: 'events of a deleted conversation', method: 'GET', path: `/api/conversations/${DELETED}/events`, status: 410, code: 'conversation_deleted' },
  { name: 'delete a deleted conversation', method: 'DELETE', path: `/api/conversations/${DELETED}`, status: 410, code: 'conversation_deleted' },
  // payload_too_large, unsupported_media_type
  { name: 'body over 1 MiB', method: 'POST', path: '/chat', body: big, headers: { 'content-type': 'application/json' }, status: 413, code: 'payload_too_large' },
  { name: 'text/plain body', method: 'POST', path: '/chat', body: 'hello', headers: { 'content-type': 'text/plain' }, status: 415, code: 'unsupported_media_type' },
  { name: 'form body', method: 'POST', path: '/chat', body: 'prompt=hello', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 415, code: 'unsupported_media_type' },
  // idempotency_key_reused
  { name: 'key reused with another prompt', ...chat({ prompt: 'something else', conv_id: EXISTING, idempotency_key: 'bad-input-key' }), status: 422, code: 'idempotency_key_reused' },
  { name: 'key reused with another conversation', ...chat({ prompt: 'hello', conv_id: 'bad-input-other', idempotency_key: 'bad-input-key' }), status: 422, code: 'idempotency_key_reused' },
  { name: 'key reused (header) with another prompt', ...chat({ prompt: 'other', conv_id: EXISTING }, { headers: { 'Idempotency-Key': 'bad-input-key' } }), status: 422, code: 'idempotency_key_reused' },
];

const fill = (path: string) => path.replace('<open>', pauseOpen).replace('<resolved>', pauseResolved);
const fillJson = (json: unknown) => (json === undefined ? undefined : JSON.parse(fill(JSON.stringify(json))));

describe('the error table, against the real server: documented status and code, nothing changed', () => {
  let baseline: Record<string, unknown>;
  beforeAll(async () => {
    baseline = await observe();
  });

  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const r: HttpResult = await srv.api.request(c.method, fill(c.path), {
      json: fillJson(c.json),
      body: c.body,
      headers: c.headers,
    });
    expect({ status: r.status, code: r.json?.error?.code }).toEqual({ status: c.status, code: c.code });
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(ErrorBody.safeParse(r.json).success).toBe(true);
    if (c.status === 405) expect(r.headers.get('allow')).toBeTruthy();
    expect(await observe()).toEqual(baseline);
  });

  it.each([
    ['missing conv_id', '/ws'],
    ['conv_id with a space', '/ws?conv_id=bad%20id'],
    ['conv_id too long', `/ws?conv_id=${'a'.repeat(129)}`],
    ['since=-1', `/ws?conv_id=${EXISTING}&since=-1`],
    ['since=abc', `/ws?conv_id=${EXISTING}&since=abc`],
    ['empty epoch', `/ws?conv_id=${EXISTING}&since=1&epoch=`],
  ])('WebSocket upgrade, %s → HTTP 400 bad_request, no upgrade', async (_name, path) => {
    const r = await refusedUpgrade(srv.wsBase + path);
    expect({ status: r.status, code: r.body?.error?.code }).toEqual({ status: 400, code: 'bad_request' });
    expect(await observe()).toEqual(baseline);
  });

  it('a socket on an unknown conversation creates nothing; a deleted one closes 4404 after ws.hello', async () => {
    const waiting = await WsClient.open(srv.wsBase, 'bad-input-waiting');
    expect(waiting.frames.map((f) => f.type)).toEqual(['ws.hello']);
    expect((await srv.api.conversation('bad-input-waiting')).status).toBe(404);
    waiting.terminate();
    const gone = await WsClient.connect(srv.wsBase, DELETED);
    expect((await gone.waitClose()).code).toBe(4404);
    expect(gone.frames.map((f) => f.type)).toEqual(['ws.hello']);
    expect(frameProblems([waiting, gone])).toEqual([]);
    expect(await observe()).toEqual(baseline);
  });

  it('(control) the observation does see a real change', async () => {
    expect((baseline[`${EXISTING}:events`] as string[]).length).toBeGreaterThan(3);
    expect((baseline[`${PAUSED}:events`] as string[]).length).toBeGreaterThan(3);
    expect((await srv.api.chat({ prompt: 'a valid prompt', conv_id: EXISTING })).status).toBe(200);
    await srv.api.waitIdle(EXISTING);
    const after = await observe();
    expect(after[`${EXISTING}:events`]).not.toEqual(baseline[`${EXISTING}:events`]);
    expect(after.list).not.toEqual(baseline.list);
  });
});

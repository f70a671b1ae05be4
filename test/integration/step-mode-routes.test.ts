import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, tempDir, type TempDir, type TestServer } from '../helpers/server';
import { WsClient } from '../helpers/ws-client';

/**
 * Step mode over HTTP against the real server (protocol.md "Pauses and step mode"): the
 * canonical routes and the Pinocchio `/api/debug/*` aliases behave the same, with the
 * documented error codes; a refused action changes nothing.
 */

let dir: TempDir;
let srv: TestServer;
const sockets: WsClient[] = [];
beforeAll(async () => {
  dir = tempDir();
  srv = await startServer(dir, {
    profiles: {
      default: 'fast',
      profiles: [
        { slug: 'fast', provider: 'demo', chunk_delay_ms: 0, allow_overrides: ['step_mode'] },
        { slug: 'approve', provider: 'demo', chunk_delay_ms: 0, tools: ['calc', { name: 'get_time', approval: 'required' }] },
      ],
    },
  });
});
afterAll(async () => {
  for (const s of sockets) s.terminate();
  await srv?.close();
  dir?.remove();
});

const open = async (convId: string) => {
  const c = await WsClient.open(srv.wsBase, convId);
  sockets.push(c);
  return c;
};
const pauseIds = (ws: WsClient) => ws.ofType('debugger.pause').map((f) => f.id);

describe('step mode routes', () => {
  it('PUT step-mode, pause, resolve: codes for resolved / unknown / other conversation / invalid action', async () => {
    const ws = await open('sm-1');
    await open('sm-other');
    // step mode is set on a conversation that exists (an unknown id is 404, see below)
    expect((await srv.api.chat({ prompt: '/stream 1 0', conv_id: 'sm-1' })).status).toBe(200);
    await ws.waitType('run.end');
    expect((await srv.api.request('PUT', '/api/conversations/sm-1/step-mode', { json: { enabled: true } })).json).toEqual({ step_mode: true });
    expect((await srv.api.chat({ prompt: '/stream 2 0', conv_id: 'sm-other' })).status).toBe(200);
    expect((await srv.api.chat({ prompt: 'What is 6*7?', conv_id: 'sm-1' })).status).toBe(200);
    await ws.waitType('debugger.pause');
    const [p1] = pauseIds(ws);
    const state = (await srv.api.get('/api/conversations/sm-1')).json;
    expect(state.step_mode).toBe(true);
    expect(state.open_pauses).toEqual([expect.objectContaining({ pause_id: p1, phase: 'after_inference', tool_call_ids: [expect.any(String)] })]);

    const other = await srv.api.post(`/api/conversations/sm-other/pauses/${p1}`, { action: 'continue' });
    expect([other.status, other.json.error.code]).toEqual([403, 'forbidden']);
    const unknown = await srv.api.post('/api/conversations/sm-1/pauses/00000000-0000-0000-0000-000000000000', { action: 'continue' });
    expect([unknown.status, unknown.json.error.code]).toEqual([404, 'pause_not_found']);
    const badAction = await srv.api.post(`/api/conversations/sm-1/pauses/${p1}`, { action: 'explode' });
    expect([badAction.status, badAction.json.error.code]).toEqual([400, 'bad_request']);
    expect(ws.count('debugger.resume')).toBe(0); // nothing changed

    const ok = await srv.api.post(`/api/conversations/sm-1/pauses/${p1}`, { action: 'continue' });
    expect(ok.status).toBe(200);
    expect(ok.json).toEqual({ ok: true, pause: { pause_id: p1, phase: 'after_inference', conv_id: 'sm-1', resolution: 'continued', effect: 'continue' } });
    const again = await srv.api.post(`/api/conversations/sm-1/pauses/${p1}`, { action: 'continue' });
    expect([again.status, again.json.error.code]).toEqual([409, 'pause_resolved']);

    await ws.waitType('debugger.pause', 2);
    const p2 = pauseIds(ws)[1]!;
    const deny = await srv.api.post(`/api/conversations/sm-1/pauses/${p2}`, { action: 'deny' });
    expect([deny.status, deny.json.error.code]).toEqual([409, 'invalid_action']);
    // the alias resolves the same pause (no conv_id needed)
    const alias = await srv.api.post('/api/debug/continue', { pause_id: p2 });
    expect(alias.status).toBe(200);
    expect(alias.json.pause).toMatchObject({ pause_id: p2, phase: 'after_tools', resolution: 'continued' });
    await ws.waitType('run.end', 2);
    expect(ws.ofType('run.end')[1]!.data.status).toBe('completed');
    expect(ws.ofType('debugger.resume').map((f) => f.data.resolution)).toEqual(['continued', 'continued']);
  });

  it('debug aliases: step enable/disable and continue with deny', async () => {
    const ws = await open('sm-2');
    expect((await srv.api.chat({ prompt: '/stream 1 0', conv_id: 'sm-2' })).status).toBe(200);
    await ws.waitType('run.end');
    expect((await srv.api.post('/api/debug/step/enable', { conv_id: 'sm-2' })).status).toBe(200);
    expect((await srv.api.get('/api/conversations/sm-2')).json.step_mode).toBe(true);
    await srv.api.chat({ prompt: 'What is 1+1?', conv_id: 'sm-2' });
    await ws.waitType('debugger.pause');
    const deny = await srv.api.post('/api/debug/continue', { pause_id: pauseIds(ws)[0], conv_id: 'sm-2', action: 'deny' });
    expect(deny.json.pause).toMatchObject({ resolution: 'denied', effect: 'deny' });
    await ws.waitType('debugger.pause', 2);
    // disabling step mode releases the after_tools pause (resolution disabled)
    expect((await srv.api.post('/api/debug/step/disable', { conv_id: 'sm-2' })).status).toBe(200);
    await ws.waitType('run.end', 2);
    expect(ws.ofType('debugger.resume').map((f) => f.data.resolution)).toEqual(['denied', 'disabled']);
    expect(ws.ofType('tool.result')[0]!.data.status).toBe('denied');
    const unknown = await srv.api.post('/api/debug/continue', { pause_id: 'nope' });
    expect([unknown.status, unknown.json.error.code]).toEqual([404, 'pause_not_found']);
  });

  it('request_overrides.step_mode sticks to the conversation and appends step.mode', async () => {
    const ws = await open('sm-3');
    await srv.api.chat({ prompt: 'What is 3+3?', conv_id: 'sm-3', request_overrides: { step_mode: true } });
    await ws.waitType('debugger.pause');
    expect(ws.ofType('step.mode').map((f) => f.data.enabled)).toEqual([true]);
    await srv.api.post(`/api/conversations/sm-3/pauses/${pauseIds(ws)[0]}`, { action: 'abort' });
    await ws.waitType('run.end');
    expect(ws.ofType('run.end')[0]!.data).toMatchObject({ status: 'cancelled', reason: 'pause_abort' });
    expect((await srv.api.get('/api/conversations/sm-3')).json.step_mode).toBe(true);
    // a profile that does not allow an override refuses it, changing nothing …
    const refused = await srv.api.chat({ prompt: 'x', conv_id: 'sm-4', runtime_key: 'approve', request_overrides: { step_mode: true, temperature: 0.5 } });
    expect([refused.status, refused.json.error.code, refused.json.error.details.key]).toEqual([400, 'override_not_allowed', 'temperature']);
    expect((await srv.api.get('/api/conversations/sm-4')).status).toBe(404);
    // … but step_mode is the same switch as PUT …/step-mode: every profile accepts it, so a new
    // chat's first prompt can start stepped (the step-mode route 404s before the first prompt)
    const ws4 = await open('sm-4');
    const ok = await srv.api.chat({ prompt: 'What is 3+4?', conv_id: 'sm-4', runtime_key: 'approve', request_overrides: { step_mode: true } });
    expect(ok.status).toBe(200);
    await ws4.waitType('debugger.pause');
    expect(ws4.ofType('step.mode').map((f) => f.data.enabled)).toEqual([true]);
    await srv.api.post(`/api/conversations/sm-4/pauses/${pauseIds(ws4)[0]}`, { action: 'abort' });
    await ws4.waitType('run.end');
  });

  it('step mode and pause routes on an unknown id: 404 conversation_not_found, nothing stored', async () => {
    const ids = ['sm-ghost-1', 'sm-ghost-2', 'sm-ghost-3', 'sm-ghost-4', 'sm-ghost-5'];
    const calls = [
      ['PUT', `/api/conversations/${ids[0]}/step-mode`, { enabled: true }],
      ['PUT', `/api/conversations/${ids[1]}/step-mode`, { enabled: false }],
      ['POST', '/api/debug/step/enable', { conv_id: ids[2] }],
      ['POST', '/api/debug/step/disable', { conv_id: ids[3] }],
      ['POST', `/api/conversations/${ids[4]}/pauses/00000000-0000-0000-0000-000000000000`, { action: 'continue' }],
      ['POST', '/api/debug/continue', { pause_id: '00000000-0000-0000-0000-000000000000', conv_id: ids[4] }],
    ] as const;
    for (const [method, path, json] of calls) {
      const r = await srv.api.request(method, path, { json });
      expect([method, path, r.status, r.json.error.code, Object.keys(r.json.error).sort()]).toEqual([method, path, 404, 'conversation_not_found', ['code', 'details', 'message']]);
    }
    for (const id of ids) expect((await srv.api.get(`/api/conversations/${id}`)).status).toBe(404);
    const listed = (await srv.api.get('/api/conversations?limit=100')).json.items.map((i: { conv_id: string }) => i.conv_id);
    for (const id of ids) expect(listed).not.toContain(id);
    // the id is still free: its first prompt creates it with the profile's step mode (off)
    const ws = await open(ids[0]);
    expect((await srv.api.chat({ prompt: '/stream 1 0', conv_id: ids[0] })).status).toBe(200);
    await ws.waitType('run.end');
    expect(ws.ofType('step.mode')).toEqual([]);
    expect((await srv.api.get(`/api/conversations/${ids[0]}`)).json.step_mode).toBe(false);
  });
});

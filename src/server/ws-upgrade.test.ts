import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ChatService, WsLike } from '../webchat/chat-service';
import { WebchatError } from '../webchat/webchat-error';
import { testApp, type TestApp } from './testing/test-app';
import { parseUpgradeQuery } from './ws-upgrade';

let t: TestApp | null = null;
const clients: WebSocket[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.terminate();
  await t?.app.close();
  t = null;
});

async function start(opts: { argv?: string[]; service?: Partial<ChatService> } = {}) {
  t = testApp(opts);
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = t.app.server.address() as AddressInfo;
  return { t, base: `ws://127.0.0.1:${port}` };
}

/** Resolves with the HTTP status and JSON body of a refused upgrade (fails if it upgrades). */
const refused = (url: string) =>
  new Promise<{ status: number; body: { error: { code: string; message: string } } }>((resolve, reject) => {
    const ws = new WebSocket(url);
    clients.push(ws);
    ws.on('open', () => reject(new Error('upgraded, expected a refusal')));
    ws.on('error', () => {});
    ws.on('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += String(d)));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
  });

const open = (url: string, opts: WebSocket.ClientOptions = {}) =>
  new Promise<WebSocket>((resolve, reject) => {
    const ws = new WebSocket(url, opts);
    clients.push(ws);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });

const closed = (ws: WebSocket) =>
  new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })));

describe('WebSocket upgrade', () => {
  it.each([
    ['missing conv_id', '/ws'],
    ['empty conv_id', '/ws?conv_id='],
    ['conv_id with a space', '/ws?conv_id=a%20b'],
    ['conv_id too long', `/ws?conv_id=${'a'.repeat(129)}`],
    ['conv_id twice', '/ws?conv_id=a&conv_id=b'],
    ['since=-1', '/ws?conv_id=c1&since=-1'],
    ['since=abc', '/ws?conv_id=c1&since=abc'],
    ['since=1.5', '/ws?conv_id=c1&since=1.5'],
    ['epoch empty', '/ws?conv_id=c1&since=1&epoch='],
    ['epoch twice', '/ws?conv_id=c1&epoch=a&epoch=b'],
  ])('%s → HTTP 400 bad_request, no upgrade, service untouched', async (_name, path) => {
    const { t, base } = await start();
    const res = await refused(base + path);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('bad_request');
    expect(t.service.calls).toEqual([]);
  });

  it('an upgrade on another path → 404', async () => {
    const { base } = await start();
    const res = await refused(`${base}/other?conv_id=c1`);
    expect([res.status, res.body.error.code]).toEqual([404, 'not_found']);
  });

  it('a plain GET of /ws (no upgrade) → 400 JSON', async () => {
    const { t } = await start();
    const res = await t.app.inject({ method: 'GET', url: '/ws?conv_id=c1' });
    expect([res.statusCode, res.json().error.code]).toEqual([400, 'bad_request']);
  });

  it('good query → attachSocket(convId, ws, {since, epoch}, principal); messages → onSocketMessage', async () => {
    const got: string[] = [];
    const { t, base } = await start({
      service: {
        async attachSocket(_convId, ws) {
          ws.send(JSON.stringify({ sem: true, event: { type: 'ws.hello' } }), {});
        },
        onSocketMessage(_convId, ws, text) {
          got.push(text);
          if (text === 'ping') ws.send('pong-frame', {});
        },
      },
    });
    const ws = new WebSocket(`${base}/ws?conv_id=c_1-x&since=42&epoch=ep-9`);
    clients.push(ws);
    const hello = await new Promise<string>((resolve) => ws.once('message', (d) => resolve(String(d))));
    expect(JSON.parse(hello).event.type).toBe('ws.hello');
    const attach = t.service.calls.find((c) => c.method === 'attachSocket')!;
    expect(attach.args[0]).toBe('c_1-x');
    expect(attach.args[2]).toEqual({ since: 42, epoch: 'ep-9' });
    expect(attach.args[3]).toBeNull();

    ws.send('ping');
    expect(String(await new Promise((resolve) => ws.once('message', resolve)))).toBe('pong-frame');
    const msg = t.service.calls.find((c) => c.method === 'onSocketMessage')!;
    expect(msg.args[0]).toBe('c_1-x');
    expect(msg.args[1]).toBe(attach.args[1]); // the same socket object
    expect(got).toEqual(['ping']);
  });

  it('without since/epoch → {since: null, epoch: null}', async () => {
    const { t, base } = await start();
    await open(`${base}/ws?conv_id=c1`);
    await expect.poll(() => t.service.calls.find((c) => c.method === 'attachSocket')?.args[2]).toEqual({ since: null, epoch: null });
  });

  it('a message over 64 KiB closes the socket 1009 and never reaches the service; 64 KiB exactly passes', async () => {
    const got: number[] = [];
    const { t, base } = await start({ service: { onSocketMessage: (_c, _ws, text) => void got.push(text.length) } });
    const ws = await open(`${base}/ws?conv_id=c1`);
    ws.send('a'.repeat(64 * 1024));
    await expect.poll(() => got).toEqual([65536]);
    const done = closed(ws);
    ws.send('b'.repeat(64 * 1024 + 1));
    expect((await done).code).toBe(1009);
    expect(got).toEqual([65536]);
    const text = await t.metrics.render();
    expect(text).toContain('webchat_socket_drops_total{reason="message_too_big"} 1');
  });

  it('--ws-max-message applies', async () => {
    const { base } = await start({ argv: ['--ws-max-message', '100'] });
    const ws = await open(`${base}/ws?conv_id=c1`);
    const done = closed(ws);
    ws.send('x'.repeat(101));
    expect((await done).code).toBe(1009);
  });

  it('attachSocket refusals become close codes (deleted 4404, forbidden 4403)', async () => {
    const { base } = await start({
      service: {
        async attachSocket(convId) {
          throw new WebchatError(convId === 'gone' ? 'conversation_deleted' : 'forbidden', 'no');
        },
      },
    });
    const a = await open(`${base}/ws?conv_id=gone`);
    expect((await closed(a)).code).toBe(4404);
    const b = await open(`${base}/ws?conv_id=theirs`);
    expect((await closed(b)).code).toBe(4403);
  });

  it('liveness: answers pings keep the socket; no pong → terminated', async () => {
    const { t, base } = await start({ argv: ['--ws-ping-interval', '0.02', '--ws-pong-timeout', '0.05'] });
    const alive = await open(`${base}/ws?conv_id=c1`);
    let pings = 0;
    alive.on('ping', () => pings++);
    const silent = await open(`${base}/ws?conv_id=c2`, { autoPong: false });
    const silentClosed = closed(silent);
    // The silent socket is dropped by the server (no close frame: terminate → 1006 on the client).
    expect((await silentClosed).code).toBe(1006);
    await expect.poll(() => pings, { timeout: 5000 }).toBeGreaterThanOrEqual(3);
    expect(alive.readyState).toBe(WebSocket.OPEN);
    expect(await t.metrics.render()).toContain('webchat_socket_drops_total{reason="pong_timeout"} 1');
  });

  it('closes every socket 1001 when the app closes', async () => {
    const { t, base } = await start();
    const a = await open(`${base}/ws?conv_id=c1`);
    const b = await open(`${base}/ws?conv_id=c1`);
    await expect.poll(() => t.service.calls.filter((c) => c.method === 'attachSocket').length).toBe(2);
    const [ca, cb] = [closed(a), closed(b)];
    await t.app.close();
    expect((await ca).code).toBe(1001);
    expect((await cb).code).toBe(1001);
  });

  it('--root /x: the socket lives at /x/ws only', async () => {
    const { t, base } = await start({ argv: ['--root', '/x'] });
    await open(`${base}/x/ws?conv_id=c1`);
    await expect.poll(() => t.service.calls.some((c) => c.method === 'attachSocket')).toBe(true);
    const res = await refused(`${base}/ws?conv_id=c1`);
    expect(res.status).toBe(404);
  });

  it('the socket handed over satisfies WsLike', async () => {
    let handed: WsLike | null = null;
    const { base } = await start({
      service: {
        async attachSocket(_c, ws) {
          handed = ws;
        },
      },
    });
    await open(`${base}/ws?conv_id=c1`);
    await expect.poll(() => handed).not.toBeNull();
    expect(handed!.readyState).toBe(WebSocket.OPEN);
    expect(typeof handed!.bufferedAmount).toBe('number');
  });
});

describe('parseUpgradeQuery', () => {
  it('parses and bounds since/epoch', () => {
    expect(parseUpgradeQuery(new URLSearchParams('conv_id=a&since=0&epoch=e'))).toEqual({ ok: true, convId: 'a', since: 0, epoch: 'e' });
    expect(parseUpgradeQuery(new URLSearchParams('conv_id=a&since=99999999999999999')).ok).toBe(false);
    expect(parseUpgradeQuery(new URLSearchParams(`conv_id=a&epoch=${'e'.repeat(257)}`)).ok).toBe(false);
  });
});

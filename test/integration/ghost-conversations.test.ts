import { describe, expect, it } from 'vitest';
import type { WebchatService } from '../../src/webchat/webchat-service';
import { useServer } from '../helpers/fixture';
import { WsClient } from '../helpers/ws-client';

/**
 * Looking at a conversation that does not exist allocates nothing (protocol: an unknown
 * conversation gives an empty snapshot, version 0; a socket for it is accepted and waits,
 * creating nothing). A flood of fresh ids on `/api/timeline` and `/ws` leaves the
 * loaded-conversations gauge where it was; a waiting socket still receives every frame once the
 * first prompt creates the conversation.
 */

const fx = useServer();
const service = () => fx.srv.running.service as WebchatService;

/** The `webchat_<name>` gauge from /metrics. */
async function gauge(name: string): Promise<number> {
  const text = (await fx.srv.api.request('GET', '/metrics')).text as string;
  const m = new RegExp(`^webchat_${name} (\\S+)$`, 'm').exec(text);
  if (!m) throw new Error(`no webchat_${name} in /metrics`);
  return Number(m[1]);
}

const until = async (pred: () => boolean | Promise<boolean>, what: string) => {
  for (let i = 0; i < 2000; i++) {
    if (await pred()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
};

describe('ghost conversations', () => {
  it('20,000 /api/timeline requests with fresh ids load no conversation', async () => {
    // one real conversation, so the gauge has a non-zero baseline
    const ws = await fx.open('ghost-base');
    await fx.srv.api.chat({ prompt: '/stream 2 0', conv_id: 'ghost-base' });
    await ws.waitType('run.end');
    const loaded = service().manager.loadedCount;
    expect(loaded).toBe(1);
    expect(await gauge('conversations_loaded')).toBe(1);

    const app = fx.srv.running.app;
    const N = 20_000;
    for (let i = 0; i < N; i += 500) {
      const answers = await Promise.all(
        Array.from({ length: 500 }, (_, j) => app.inject({ method: 'GET', url: `/api/timeline?conv_id=ghost-t-${i + j}` })),
      );
      for (const a of answers) expect(a.statusCode).toBe(200);
      if (i === 0) {
        const snap = answers[0]!.json();
        expect(snap).toMatchObject({ convId: 'ghost-t-0', epoch: '', version: 0, entities: [], conversation: { running: null, queue: [], openPauses: [] } });
      }
      expect(service().manager.loadedCount).toBe(loaded);
    }
    expect(await gauge('conversations_loaded')).toBe(loaded);
    // nothing was stored either
    expect((await fx.srv.api.get('/api/conversations/ghost-t-1')).status).toBe(404);
    const listed = (await fx.srv.api.get('/api/conversations?limit=100')).json.items.map((i: { conv_id: string }) => i.conv_id);
    expect(listed).toEqual(['ghost-base']);
  }, 120_000);

  it('2,000 /ws connects (open, then close) with fresh ids load no conversation', async () => {
    const loaded = service().manager.loadedCount;
    const sockets0 = await gauge('sockets');
    const N = 2_000;
    for (let i = 0; i < N; i += 100) {
      const clients = await Promise.all(Array.from({ length: 100 }, (_, j) => WsClient.open(fx.srv.wsBase, `ghost-ws-${i + j}`)));
      for (const c of clients) expect(c.hello!.data).toMatchObject({ lastSeq: 0, protocolVersion: 1 });
      expect(service().manager.loadedCount).toBe(loaded);
      expect(await gauge('sockets')).toBe(sockets0 + 100);
      await Promise.all(clients.map((c) => c.close()));
    }
    await until(async () => service().manager.waiting.conversationCount === 0 && (await gauge('sockets')) === sockets0, 'waiting sockets released');
    expect(service().manager.loadedCount).toBe(loaded);
    expect(await gauge('conversations_loaded')).toBe(loaded);
  }, 120_000);

  it('a socket that waited receives every frame once the first prompt creates the conversation', async () => {
    const convId = 'ghost-late';
    const loaded = service().manager.loadedCount;
    const a = await fx.open(convId);
    const b = await fx.open(convId, { since: 0 });
    const ahead = await fx.open(convId, { since: 5 });
    const epoch = a.hello!.data.epoch as string;
    expect(epoch).not.toBe('');
    for (const c of [a, b, ahead]) expect(c.hello!.data).toMatchObject({ convId, lastSeq: 0, epoch });
    await ahead.waitType('ws.resync');
    expect(ahead.ofType('ws.resync')[0]!.data).toMatchObject({ lastSeq: 0, epoch, reason: 'since_ahead' });
    // a waiting socket gets its pong
    a.send('ping');
    await a.waitType('ws.pong');
    // the snapshot of the not-yet conversation names the epoch the sockets were told
    expect((await fx.srv.api.timeline(convId)).json).toMatchObject({ version: 0, epoch, entities: [] });
    expect(service().manager.loadedCount).toBe(loaded);

    expect((await fx.srv.api.chat({ prompt: '/stream 5 0', conv_id: convId })).status).toBe(200);
    for (const c of [a, b, ahead]) await c.waitType('run.end');
    const state = (await fx.srv.api.conversation(convId)).json;
    expect(state.epoch).toBe(epoch);
    const stored = await fx.srv.api.allEvents(convId);
    for (const c of [a, b, ahead]) {
      expect(c.log.map((f) => f.seq)).toEqual(stored.frames.map((f) => f.event.seq));
      expect(c.log.map((f) => f.raw)).toEqual(stored.raw);
      expect(c.ofType('ws.hello')).toHaveLength(1);
    }
  });

  it('a waiting socket closed before the prompt is not delivered to, and nothing leaks', async () => {
    const convId = 'ghost-gone';
    const c = await fx.open(convId);
    await c.close();
    await until(() => service().manager.waiting.epochOf(convId) === null, 'the waiting entry to go');
    expect((await fx.srv.api.chat({ prompt: '/stream 2 0', conv_id: convId })).status).toBe(200);
    const live = await fx.open(convId, { since: 0 });
    await live.waitType('run.end');
    expect(c.log).toEqual([]);
  });
});

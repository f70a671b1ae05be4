import { describe, expect, it } from 'vitest';
import type { WebchatService } from '../../src/webchat/webchat-service';
import { useServer } from '../helpers/fixture';
import { startServer, type TestServer } from '../helpers/server';

/**
 * What the conversation list and `GET /api/conversations/:id` report about a conversation that
 * was unloaded (evicted, or the server restarted) and loaded again: `last_activity_ms` is the
 * time of its last frame, never the reload time; titles are the first prompt cut on grapheme
 * boundaries, without lone surrogates.
 */

const fx = useServer();
const manager = (srv: TestServer) => (srv.running.service as WebchatService).manager;
const sleepUntil = async (ms: number) => {
  while (Date.now() <= ms) await new Promise((r) => setTimeout(r, 5));
};

/** Unloads `convId` (as the idle sweep does, with a clock far ahead) once nothing is pending. */
async function evict(srv: TestServer, convId: string): Promise<void> {
  const m = manager(srv);
  for (let i = 0; i < 400 && m.peek(convId); i++) {
    m.sweep(Date.now() + 24 * 3600_000);
    if (m.peek(convId)) await new Promise((r) => setTimeout(r, 10));
  }
  expect(m.peek(convId)).toBeUndefined();
}

const listed = async (srv: TestServer, convId: string) =>
  ((await srv.api.get('/api/conversations?limit=100')).json.items as any[]).find((i) => i.conv_id === convId);

describe('last_activity_ms across unload and reload', () => {
  it('is the time of the last frame after an eviction and after a restart', async () => {
    const convId = 'la-1';
    const ws = await fx.open(convId);
    expect((await fx.srv.api.chat({ prompt: '/stream 3 0', conv_id: convId })).status).toBe(200);
    await ws.waitType('run.end');
    const before = (await fx.srv.api.conversation(convId)).json.last_activity_ms as number;
    expect(before).toBeGreaterThan(0);
    ws.terminate();
    await ws.closed;

    await evict(fx.srv, convId);
    await sleepUntil(before + 30);
    const afterEviction = await fx.srv.api.conversation(convId);
    expect(afterEviction.status).toBe(200);
    expect(afterEviction.json.last_activity_ms).toBe(before);
    expect(manager(fx.srv).peek(convId)).toBeDefined(); // it really was loaded again
    await (fx.srv.running.service as WebchatService).flush();
    expect((await listed(fx.srv, convId)).last_activity_ms).toBe(before);

    // reloading wrote nothing newer: unload again, the list (read from the store) agrees
    await evict(fx.srv, convId);
    expect((await listed(fx.srv, convId)).last_activity_ms).toBe(before);

    await fx.srv.close();
    await sleepUntil(before + 60);
    fx.srv = await startServer(fx.dir, { db: fx.srv.dbPath });
    expect((await fx.srv.api.conversation(convId)).json.last_activity_ms).toBe(before);
    await (fx.srv.running.service as WebchatService).flush();
    expect((await listed(fx.srv, convId)).last_activity_ms).toBe(before);
  });
});

describe('titles', () => {
  it('drop lone surrogates and never split a grapheme (list and GET)', async () => {
    const family = '\u{1F468}\u200D\u{1F469}\u200D\u{1F467}\u200D\u{1F466}';
    const cases = [
      { convId: 'ti-1', prompt: 'lone \uD800 high and \uDFFF low', title: 'lone  high and  low' },
      { convId: 'ti-2', prompt: 'a'.repeat(75) + family + ' and more', title: 'a'.repeat(75) },
      { convId: 'ti-3', prompt: `caf${'e\u0301'} ${'\u{1F1EB}\u{1F1F7}'}`, title: `caf${'e\u0301'} ${'\u{1F1EB}\u{1F1F7}'}` },
    ];
    for (const c of cases) {
      const ws = await fx.open(c.convId);
      expect((await fx.srv.api.chat({ prompt: c.prompt, conv_id: c.convId })).status).toBe(200);
      await ws.waitType('run.end');
    }
    await (fx.srv.running.service as WebchatService).flush();
    for (const c of cases) {
      expect((await fx.srv.api.conversation(c.convId)).json.title).toBe(c.title);
      const item = await listed(fx.srv, c.convId);
      expect(item.title).toBe(c.title);
      expect(item.title).not.toContain('\uFFFD');
    }
  });
});

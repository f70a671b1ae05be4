import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { useServer } from '../helpers/fixture';
import { startServer } from '../helpers/server';
import { refusedUpgrade, WsClient } from '../helpers/ws-client';

/**
 * Delete (protocol.md "Conversations" DELETE): 204; the run ends once (reason deleted), the
 * queue is dropped, sockets close 4404; afterwards /chat, routes and sockets get 410 / 4404;
 * and nothing of the conversation is left in the store but its tombstone.
 */

const fx = useServer((dir) => ({ db: dir.file('delete.db') }));
const open = fx.open;

/** Every row of every table that mentions `needle` in any column (conv_id or otherwise). */
function rowsMentioning(db: Database.Database, needle: string): Record<string, number> {
  const out: Record<string, number> = {};
  const tables = db.prepare("select name from sqlite_master where type='table'").pluck().all() as string[];
  for (const t of tables) {
    const cols = (db.prepare(`pragma table_info("${t}")`).all() as { name: string }[]).map((c) => c.name);
    const where = cols.map((c) => `instr(cast("${c}" as text), ?) > 0`).join(' or ');
    const n = db.prepare(`select count(*) from "${t}" where ${where}`).pluck().get(...cols.map(() => needle)) as number;
    if (n > 0) out[t] = n;
  }
  return out;
}

/** Rows per table with `conv_id = id`, for every table that has a conv_id column. */
function rowsByConvId(db: Database.Database, convId: string): Record<string, number> {
  const out: Record<string, number> = {};
  const tables = db.prepare("select name from sqlite_master where type='table'").pluck().all() as string[];
  for (const t of tables) {
    const cols = (db.prepare(`pragma table_info("${t}")`).all() as { name: string }[]).map((c) => c.name);
    if (!cols.includes('conv_id')) continue;
    out[t] = db.prepare(`select count(*) from "${t}" where conv_id = ?`).pluck().get(convId) as number;
  }
  return out;
}

describe('delete', () => {
  it('204; one run.end deleted, queue dropped, sockets 4404; then 410 everywhere; nothing left in the store', async () => {
    const convId = 'delete-me';
    const keep = 'delete-keep';
    const marker = 'zebra-marker-41f7';
    // a conversation that stays, to prove the store checks can see rows
    expect((await fx.srv.api.chat({ prompt: `What is 2+3? ${marker}-keep`, conv_id: keep })).status).toBe(200);
    await fx.srv.api.waitIdle(keep);

    // history (a finished run with a tool call) + a running stream + a queued prompt, two sockets
    expect((await fx.srv.api.chat({ prompt: `What is 2+3? ${marker}`, conv_id: convId })).status).toBe(200);
    await fx.srv.api.waitIdle(convId);
    const a = await open(convId);
    const b = await open(convId);
    const run = await fx.srv.api.chat({ prompt: '/stream 5000 1', conv_id: convId });
    expect(run.status).toBe(200);
    const queued = await fx.srv.api.chat({ prompt: `queued ${marker}`, conv_id: convId, idempotency_key: 'del-key' });
    expect(queued.status).toBe(202);
    await a.waitFor(() => a.count('llm.delta') >= 5, 'stream under way');

    const del = await fx.srv.api.del(`/api/conversations/${convId}`);
    expect(del.status).toBe(204);
    expect(del.text).toBe('');
    const [ca, cb] = await Promise.all([a.waitClose(), b.waitClose()]);
    expect(ca.code).toBe(4404);
    expect(cb.code).toBe(4404);
    // both sockets saw the same ending: the queue dropped, one run.end (deleted), nothing after
    expect(b.log.map((f) => f.raw)).toEqual(a.log.map((f) => f.raw));
    const ends = a.ofType('run.end');
    expect(ends).toHaveLength(1);
    expect(ends[0]!.data).toMatchObject({ inferenceId: run.json.inference_id, status: 'cancelled', reason: 'deleted' });
    expect(a.ofType('run.queued').map((f) => [f.data.turnId, f.data.status, f.data.reason])).toEqual([
      [queued.json.turn_id, 'queued', null],
      [queued.json.turn_id, 'dropped', 'deleted'],
    ]);
    expect(a.log[a.log.length - 1]!.type).toBe('run.end');
    expect(a.invalid).toEqual([]);

    // afterwards: 410 on /chat and the routes, 4404 on sockets
    const chat = await fx.srv.api.chat({ prompt: 'hello?', conv_id: convId });
    expect([chat.status, chat.json.error.code]).toEqual([410, 'conversation_deleted']);
    const idem = await fx.srv.api.chat({ prompt: `queued ${marker}`, conv_id: convId, idempotency_key: 'del-key' });
    expect([idem.status, idem.json.error.code]).toEqual([410, 'conversation_deleted']);
    for (const [method, path, body] of [
      ['GET', `/api/conversations/${convId}`],
      ['GET', `/api/conversations/${convId}/events?since=0`],
      ['GET', `/api/conversations/${convId}/turns`],
      ['GET', `/api/timeline?conv_id=${convId}`],
      ['POST', `/api/conversations/${convId}/cancel`, {}],
      ['DELETE', `/api/conversations/${convId}`],
      ['PUT', `/api/conversations/${convId}/step-mode`, { enabled: true }],
    ] as const) {
      const r = await fx.srv.api.request(method, path, body === undefined ? {} : { json: body });
      expect([method, path, r.status, r.json?.error?.code]).toEqual([method, path, 410, 'conversation_deleted']);
    }
    const late = await WsClient.connect(fx.srv.wsBase, convId, { since: 0 });
    fx.sockets.push(late);
    const lateClose = await late.waitClose();
    expect(lateClose.code).toBe(4404);
    expect(late.frames.map((f) => f.type)).toEqual(['ws.hello']);
    expect(late.log).toEqual([]);
    expect(late.invalid).toEqual([]);
    // an ordinary upgrade still works for other conversations; a bad one is still refused
    expect((await refusedUpgrade(`${fx.srv.wsBase}/ws?conv_id=bad%20id`)).status).toBe(400);

    const list = await fx.srv.api.get('/api/conversations?limit=100');
    expect(list.json.items.map((i: any) => i.conv_id)).not.toContain(convId);
    expect(list.json.items.map((i: any) => i.conv_id)).toContain(keep);

    await fx.srv.close();
    const db = new Database(fx.srv.dbPath, { readonly: true, fileMustExist: true });
    try {
      const byConv = rowsByConvId(db, convId);
      expect(Object.keys(byConv).length).toBeGreaterThan(5);
      const left = Object.fromEntries(Object.entries(byConv).filter(([t, n]) => n > 0 && t !== 'tombstones'));
      expect(left).toEqual({});
      expect(byConv.tombstones).toBe(1);
      // not even in another column (blocks, idempotency records, JSON): only the tombstone names it
      expect(rowsMentioning(db, convId)).toEqual({ tombstones: 1 });
      expect(rowsMentioning(db, marker)).toEqual(rowsMentioning(db, `${marker}-keep`));
      // the kept conversation is intact
      const kept = rowsByConvId(db, keep);
      for (const t of ['conversations', 'log_streams', 'runs', 'entities', 'turn_snapshots']) expect(kept[t], t).toBeGreaterThan(0);
    } finally {
      db.close();
    }
  });

  it('an unknown conversation → 404', async () => {
    // srv was closed by the previous test: start a fresh one on the same file
    fx.srv = await startServer(fx.dir, { db: fx.dir.file('delete.db') });
    const r = await fx.srv.api.del('/api/conversations/never-existed');
    expect([r.status, r.json.error.code]).toEqual([404, 'conversation_not_found']);
    // the tombstone survived the restart
    const chat = await fx.srv.api.chat({ prompt: 'hello?', conv_id: 'delete-me' });
    expect([chat.status, chat.json.error.code]).toEqual([410, 'conversation_deleted']);
    const late = await WsClient.connect(fx.srv.wsBase, 'delete-me');
    fx.sockets.push(late);
    expect((await late.waitClose()).code).toBe(4404);
  });
});

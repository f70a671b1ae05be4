import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSchema, dropTestSchema } from '../../src/webchat/store/store-test-engines';
import type { WebchatService } from '../../src/webchat/webchat-service';
import { startServer, tempDir, type TempDir, type TestServer } from '../helpers/server';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy';
import { firstSeqProblem, WsClient } from '../helpers/ws-client';

/**
 * PostgreSQL really unreachable mid-stream (a TCP proxy between the server and PostgreSQL drops
 * every connection and refuses new ones): /readyz answers 503, a prompt is refused with 503,
 * nothing new becomes visible while the run goes on in memory; when PostgreSQL is reachable
 * again the retried commits land, the run ends completed, and the log — over the socket and
 * over HTTP — is contiguous, complete and byte-identical.
 */

let proxy: TcpProxy;
let schema: string;
let dir: TempDir;
let srv: TestServer;
const sockets: WsClient[] = [];

beforeAll(async () => {
  proxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
  schema = await createTestSchema();
  dir = tempDir();
  srv = await startServer(dir, { databaseUrl: `postgres://postgres@127.0.0.1:${proxy.port}/test?schema=${schema}` });
});
afterAll(async () => {
  for (const s of sockets) s.terminate();
  proxy?.restore();
  await srv?.close();
  await proxy?.close();
  if (schema) await dropTestSchema(schema);
  dir?.remove();
});

const until = async (pred: () => boolean | Promise<boolean>, what: string) => {
  for (let i = 0; i < 2000; i++) {
    if (await pred()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
};
const ANSWER = Array.from({ length: 300 }, (_, i) => `w${i + 1}`).join(' ');

describe('PostgreSQL unreachable mid-stream', () => {
  it('503 and nothing new visible during the outage; afterwards the run completes with nothing lost', async () => {
    const convId = 'pg-outage-1';
    const ws = await WsClient.open(srv.wsBase, convId);
    sockets.push(ws);
    const started = await srv.api.chat({ prompt: '/stream 300 2', conv_id: convId });
    expect(started.status).toBe(200);
    await ws.waitType('llm.delta', 10);

    proxy.cut();
    await until(async () => (await srv.api.get('/readyz')).status === 503, '/readyz 503');
    const seenAtOutage = ws.log.length;
    const service = srv.running.service as WebchatService;
    // the run streams to its end in memory while every commit fails (and is retried)
    await until(() => service.manager.peek(convId)!.running === null, 'the run to end during the outage');
    const refused = await srv.api.chat({ prompt: 'during the outage', conv_id: 'pg-outage-2' });
    expect([refused.status, refused.json.error.code]).toEqual([503, 'not_ready']);
    expect((await srv.api.get('/readyz')).status).toBe(503);
    expect(ws.log.length).toBe(seenAtOutage); // nothing uncommitted became visible
    expect(ws.count('run.end')).toBe(0);

    proxy.restore();
    await ws.waitType('run.end', 1, { timeoutMs: 20_000 });
    const end = ws.ofType('run.end')[0]!.data;
    expect([end.status, end.reason]).toEqual(['completed', 'completed']);
    await until(async () => (await srv.api.get('/readyz')).status === 200, '/readyz 200');

    expect(firstSeqProblem(ws.log.map((f) => f.seq!), 1)).toBeNull();
    expect(ws.ofType('llm.delta').map((f) => f.data.delta ?? '').join('')).toContain('w300');
    const all = await srv.api.allEvents(convId);
    expect(all.raw).toEqual(ws.log.map((f) => f.raw));
    const turns = (await srv.api.get(`/api/conversations/${convId}/turns?full=true`)).json.turns;
    expect(turns.map((t: { status: string }) => t.status)).toEqual(['completed']);
    expect(turns[0].blocks.filter((b: { kind: string }) => b.kind === 'llm_text').map((b: { text: string }) => b.text)).toEqual([ANSWER]);
    // the refused prompt left nothing
    expect((await srv.api.conversation('pg-outage-2')).status).toBe(404);
  });
});

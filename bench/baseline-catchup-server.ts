/**
 * Baseline of `catchup`: the store-only reader. It opens the same SQLite file with the same
 * store (`SqliteStore.readFrames`), reads the same rows page by page (1000, like our replay)
 * and sends each row's JSON over a bare ws socket, pausing when 1 MiB is buffered (our replay's
 * pacing) — no conversation, no log, no server logic. Usage: fork with the db path as argument.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { SqliteStore } from '../src/webchat/store/sqlite-store';
import { helloFrame } from './lib/frames';

const dbPath = process.argv[2];
if (!dbPath) throw new Error('usage: baseline-catchup-server.ts <db>');
const store = new SqliteStore({ path: dbPath });
await store.migrate();

const PAGE = 1000;
const HIGH_WATER = 1 << 20;

async function replay(ws: WebSocket, convId: string, since: number): Promise<void> {
  const head = await store.logHead(convId);
  ws.send(helloFrame(convId, head.lastSeq, head.epoch ?? ''));
  let last = since;
  while (ws.readyState === 1 && last < head.lastSeq) {
    const rows = await store.readFrames(convId, last, PAGE);
    if (rows.length === 0) break;
    for (const r of rows) {
      if (ws.bufferedAmount > HIGH_WATER) await new Promise<void>((resolve) => ws.send(r.json, () => resolve()));
      else ws.send(r.json);
      last = r.seq;
    }
  }
}

const server = createServer((_req, res) => res.writeHead(404).end());
const wss = new WebSocketServer({ noServer: true });
server.on('upgrade', (req, socket, head) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const convId = url.searchParams.get('conv_id') ?? '';
  const since = Number(url.searchParams.get('since') ?? '0');
  wss.handleUpgrade(req, socket, head, (ws) => void replay(ws, convId, since).catch(() => ws.terminate()));
});
server.listen(0, '127.0.0.1', () => process.send!({ type: 'listening', port: (server.address() as AddressInfo).port }));
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => {
  void store.close().finally(() => process.exit(0));
});

/**
 * Baseline: a bare `ws` server (no log, no store, no runtime) that sends the same frames as our
 * server for `/stream N MS` and `/stamp N MS`, on the same schedule — as fast as it can,
 * yielding to the event loop every 64 frames (MS = 0), or one frame every MS ms per
 * conversation on a chain of timers (MS > 0), exactly like the demo engine. The frames of a
 * `/stream` run are serialized before the run starts (`POST /prepare`), so what is measured is
 * the transport: broadcast to every socket of the conversation, the kernel, the clients.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { setImmediate as yieldNow } from 'node:timers/promises';
import { WebSocketServer, type WebSocket } from 'ws';
import { helloFrame, parsePrompt, runFrames, stampText, wordDeltas, type RunFrames } from './lib/frames';

interface Conv {
  sockets: Set<WebSocket>;
  lastSeq: number;
  epoch: string;
  prepared: { prompt: string; frames: RunFrames; bufs: Buffer[] | null } | null;
  cancel: boolean;
}
const convs = new Map<string, Conv>();
const conv = (id: string): Conv => {
  let c = convs.get(id);
  if (!c) convs.set(id, (c = { sockets: new Set(), lastSeq: 0, epoch: randomUUID(), prepared: null, cancel: false }));
  return c;
};

const broadcast = (c: Conv, buf: Buffer) => {
  for (const ws of c.sockets) ws.send(buf, { binary: false });
};
/** The frames of one event-loop turn leave in one writev per socket (the best a bare server can do). */
const socketOf = (ws: WebSocket) => (ws as unknown as { _socket: import('node:net').Socket })._socket;
const cork = (c: Conv) => {
  for (const ws of c.sockets) socketOf(ws).cork();
};
const uncork = (c: Conv) => {
  for (const ws of c.sockets) socketOf(ws).uncork();
};
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function prepare(convId: string, c: Conv, prompt: string): Conv['prepared'] {
  const p = parsePrompt(prompt)!;
  const frames = runFrames(convId, prompt, c.lastSeq + 1, p.kind === 'stream' ? wordDeltas(p.n) : null);
  return { prompt, frames, bufs: frames.deltas ? frames.deltas.map((f) => Buffer.from(f)) : null };
}

async function run(convId: string, c: Conv, prompt: string): Promise<void> {
  const p = parsePrompt(prompt);
  if (!p) return;
  const prep = c.prepared?.prompt === prompt ? c.prepared : prepare(convId, c, prompt);
  const { frames, bufs } = prep!;
  c.prepared = null;
  const first = c.lastSeq + 1;
  cork(c);
  for (const f of frames.head) broadcast(c, Buffer.from(f));
  let text = '';
  let i = 0;
  c.cancel = false;
  for (; i < p.n; i++) {
    if (p.ms > 0) {
      uncork(c);
      await sleep(p.ms);
      cork(c);
    } else if (i % 64 === 63) {
      uncork(c);
      await yieldNow();
      cork(c);
    }
    if (c.cancel) break;
    if (bufs) broadcast(c, bufs[i]!);
    else {
      const d = stampText(i);
      broadcast(c, Buffer.from(frames.delta(first + 3 + i, d, text.length)));
      text += d;
    }
  }
  if (frames.deltas) text = wordDeltas(i).join('');
  for (const f of frames.tail(text, first + 3 + i, i === p.n ? 'completed' : 'cancelled')) broadcast(c, Buffer.from(f));
  uncork(c);
  c.lastSeq = first + 4 + i;
}

const body = (req: IncomingMessage) =>
  new Promise<any>((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString()));
      } catch {
        resolve({});
      }
    });
  });

const reply = (res: ServerResponse, status: number, json: unknown) => {
  const text = JSON.stringify(json);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
};

const server = createServer(async (req, res) => {
  if (req.method !== 'POST') return reply(res, 404, {});
  const b = await body(req);
  const convId = String(b.conv_id ?? '');
  if (req.url === '/cancel') {
    const c = convs.get(convId);
    if (c) c.cancel = true;
    return reply(res, 200, { status: 'cancelled' });
  }
  const prompt = String(b.prompt ?? '');
  const c = conv(convId);
  const p = parsePrompt(prompt);
  if (!p) return reply(res, 400, { error: 'bench baseline understands /stream N MS and /stamp N MS' });
  if (req.url === '/prepare') {
    c.prepared = prepare(convId, c, prompt);
    return reply(res, 200, { ok: true });
  }
  if (req.url === '/chat') {
    const seq = c.lastSeq + 1;
    void run(convId, c, prompt);
    return reply(res, 200, { status: 'started', conv_id: convId, seq });
  }
  reply(res, 404, {});
});

const wss = new WebSocketServer({ noServer: true });
server.on('upgrade', (req, socket, head) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const convId = url.searchParams.get('conv_id') ?? '';
  wss.handleUpgrade(req, socket, head, (ws) => {
    const c = conv(convId);
    c.sockets.add(ws);
    ws.on('close', () => c.sockets.delete(ws));
    ws.send(helloFrame(convId, c.lastSeq, c.epoch));
  });
});

server.listen(0, '127.0.0.1', () => process.send!({ type: 'listening', port: (server.address() as AddressInfo).port }));
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));

/**
 * Bench load generator (a child process of bench/run.ts): opens WebSockets, verifies every frame
 * (bench/lib/verify.ts) and reports counts, receipt times and latencies over IPC. The same client
 * drives our server and the baselines, so both are measured the same way.
 */
import WebSocket from 'ws';
import { now, StreamVerifier, type Expect } from './lib/verify';

export interface OpenCommand {
  type: 'open';
  id: number;
  /** ws://host:port/ws */
  url: string;
  sockets: { convId: string; since: number | null }[];
  expect: Expect;
  latency?: boolean;
  bins?: boolean;
  /** When a socket is done: after this many run.end (and no open message), or once it reached the seq ws.hello announced. */
  until: { runEnds: number } | { helloSeq: true } | { never: true };
  concurrency?: number;
  allowStatuses?: string[];
}
export type ClientCommand = OpenCommand | { type: 'close'; id: number } | { type: 'exit' };

export interface ClientReport {
  sockets: number;
  frames: number;
  deltas: number;
  deltaChars: number;
  deltaBytes: number;
  firstRecv: number;
  lastRecv: number;
  /** The earliest time a socket received its last frame (end of the steady state). */
  minLastRecv: number;
  /** When the first socket of the command was created. */
  tOpenStart: number;
  latencies: Float64Array;
  bins: [number, number][];
}
export type ClientMessage =
  | { type: 'ready' }
  | { type: 'opened'; id: number; n: number; t: number }
  | { type: 'done'; id: number; report: ClientReport }
  | { type: 'closed'; id: number }
  | { type: 'error'; id: number; error: string };

const send = (m: ClientMessage) => process.send!(m);

interface Group {
  cmd: OpenCommand;
  conns: { ws: WebSocket; v: StreamVerifier; done: boolean }[];
  tOpenStart: number;
  remaining: number;
  failed: boolean;
  closing: boolean;
}
const groups = new Map<number, Group>();

function fail(g: Group, err: unknown) {
  if (g.failed) return;
  g.failed = true;
  send({ type: 'error', id: g.cmd.id, error: err instanceof Error ? err.message : String(err) });
}

function report(g: Group): ClientReport {
  let frames = 0, deltas = 0, deltaChars = 0, deltaBytes = 0, firstRecv = Infinity, lastRecv = 0, minLastRecv = Infinity, nLat = 0;
  const bins = new Map<number, number>();
  for (const c of g.conns) {
    frames += c.v.frames;
    deltas += c.v.deltas;
    deltaChars += c.v.deltaChars;
    deltaBytes += c.v.deltaBytes;
    if (c.v.firstRecv) firstRecv = Math.min(firstRecv, c.v.firstRecv);
    lastRecv = Math.max(lastRecv, c.v.lastRecv);
    if (c.v.lastRecv) minLastRecv = Math.min(minLastRecv, c.v.lastRecv);
    nLat += c.v.latencies.length;
    if (c.v.bins) for (const [b, n] of c.v.bins) bins.set(b, (bins.get(b) ?? 0) + n);
  }
  const latencies = new Float64Array(nLat);
  let i = 0;
  for (const c of g.conns) for (const l of c.v.latencies) latencies[i++] = l;
  return { sockets: g.conns.length, frames, deltas, deltaChars, deltaBytes, firstRecv: firstRecv === Infinity ? 0 : firstRecv, lastRecv, minLastRecv: minLastRecv === Infinity ? 0 : minLastRecv, tOpenStart: g.tOpenStart, latencies, bins: [...bins] };
}

function isDone(g: Group, v: StreamVerifier): boolean {
  const u = g.cmd.until;
  if ('runEnds' in u) return v.runEnds >= u.runEnds && v.openMessages === 0;
  if ('helloSeq' in u) return v.helloLastSeq >= 0 && v.lastSeq >= v.helloLastSeq;
  return false;
}

async function open(cmd: OpenCommand): Promise<void> {
  const g: Group = { cmd, conns: [], tOpenStart: now(), remaining: cmd.sockets.length, failed: false, closing: false };
  groups.set(cmd.id, g);
  let opened = 0;
  let next = 0;
  const conc = Math.max(1, cmd.concurrency ?? 256);
  await new Promise<void>((resolveAll) => {
    if (cmd.sockets.length === 0) return resolveAll();
    const startOne = () => {
      if (g.failed || next >= cmd.sockets.length) return;
      const s = cmd.sockets[next++]!;
      const qs = `conv_id=${encodeURIComponent(s.convId)}${s.since !== null ? `&since=${s.since}` : ''}`;
      const v = new StreamVerifier(`socket ${s.convId}${s.since !== null ? ` since=${s.since}` : ''}`, {
        since: s.since, expect: cmd.expect, latency: cmd.latency, allowStatuses: cmd.allowStatuses,
      });
      if (cmd.bins) v.bins = new Map();
      const ws = new WebSocket(`${cmd.url}?${qs}`, { perMessageDeflate: false });
      const conn = { ws, v, done: false };
      g.conns.push(conn);
      let hello = false;
      ws.on('message', (data: Buffer) => {
        if (g.failed) return;
        try {
          v.onMessage(data.toString(), now());
        } catch (err) {
          return fail(g, err);
        }
        if (!hello && v.helloLastSeq >= 0) {
          hello = true;
          opened++;
          if (opened === cmd.sockets.length) resolveAll();
          else startOne();
        }
        if (!conn.done && isDone(g, v)) {
          conn.done = true;
          if (--g.remaining === 0) send({ type: 'done', id: cmd.id, report: report(g) });
        }
      });
      ws.on('error', (err) => fail(g, new Error(`${v.label}: socket error ${err.message}`)));
      ws.on('close', (code, reason) => {
        if (!g.closing && !conn.done) fail(g, new Error(`${v.label}: closed ${code} ${reason.toString()} before it was done (${v.frames} frames, last seq ${v.lastSeq})`));
      });
    };
    for (let i = 0; i < Math.min(conc, cmd.sockets.length); i++) startOne();
  });
  if (!g.failed) send({ type: 'opened', id: cmd.id, n: opened, t: now() });
}

async function close(id: number): Promise<void> {
  const g = groups.get(id);
  if (g) {
    g.closing = true;
    await Promise.all(g.conns.map((c) => new Promise<void>((resolve) => {
      if (c.ws.readyState === WebSocket.CLOSED) return resolve();
      c.ws.once('close', () => resolve());
      const t = setTimeout(() => { c.ws.terminate(); resolve(); }, 3000);
      t.unref();
      c.ws.close(1000);
    })));
    groups.delete(id);
  }
  send({ type: 'closed', id });
}

process.on('message', (m: ClientCommand) => {
  if (m.type === 'open') void open(m).catch((err) => send({ type: 'error', id: m.id, error: String(err) }));
  else if (m.type === 'close') void close(m.id);
  else if (m.type === 'exit') process.exit(0);
});
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });

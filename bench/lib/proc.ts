/**
 * Processes of the bench: our server (bin/moments-webchat.mjs, its own process), baselines and
 * load generators (forked TypeScript children through tsx), and what we read about them from
 * /proc (CPU = utime + stime, RSS = VmRSS) without touching the server.
 */
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClientCommand, ClientMessage, ClientReport, OpenCommand } from '../ws-client';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const OUT = join(ROOT, 'bench-out');
export const TMP = join(OUT, 'tmp');

let clkTck = 0;
const ticksPerSecond = () => {
  if (!clkTck) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
};

/** CPU time (user + system, ms) of a process, from /proc/<pid>/stat. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime = field 14, stime = field 15
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond();
}

/** Resident set size (bytes) of a process, from /proc/<pid>/status. */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** Samples a process's RSS every `everyMs` while running; `stop()` returns the peak and the samples. */
export function sampleRss(pid: number, everyMs = 100) {
  const samples: { t: number; rss: number }[] = [];
  const take = () => {
    try {
      samples.push({ t: Date.now(), rss: rssBytes(pid) });
    } catch {
      /* exited */
    }
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    samples,
    stop() {
      clearInterval(timer);
      take();
      return { peak: Math.max(...samples.map((s) => s.rss)), last: samples[samples.length - 1]?.rss ?? 0, samples };
    },
  };
}

/** Bytes a process caused to be written to storage (/proc/<pid>/io write_bytes; 0 if unreadable). */
export function ioWriteBytes(pid: number): number {
  try {
    const m = /write_bytes: (\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** What a measured interval cost a process. */
export function meter(pid: number) {
  const c0 = cpuMs(pid);
  const w0 = ioWriteBytes(pid);
  const t0 = performance.now();
  const rss = sampleRss(pid);
  return {
    stop() {
      const r = rss.stop();
      return { cpuMs: cpuMs(pid) - c0, wallMs: performance.now() - t0, rssPeak: r.peak, rssLast: r.last, writeBytes: ioWriteBytes(pid) - w0 };
    },
  };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Forks a bench TypeScript file (through tsx) with an IPC channel. */
export function forkTs(file: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return fork(join(ROOT, 'bench', file), args, {
    cwd: ROOT,
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, ...env },
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/** Waits for the first IPC message matching `pred` (rejects on exit or timeout). */
export function nextMessage<T>(child: ChildProcess, pred: (m: any) => m is T, timeoutMs: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onMsg = (m: unknown) => {
      if (pred(m)) {
        cleanup();
        resolve(m);
      }
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`${what}: process exited (${code}) before answering`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${what}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    timer.unref();
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMsg);
      child.off('exit', onExit);
    };
    child.on('message', onMsg);
    child.on('exit', onExit);
  });
}

export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill(signal);
  const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(t);
}

// ---- our server ---------------------------------------------------------------------------

export interface ServerOptions {
  db: string;
  /** Profiles YAML text (written next to the db). */
  profiles: string;
  flags?: string[];
  env?: NodeJS.ProcessEnv;
  /** Write a V8 CPU profile into this directory when the server exits. */
  cpuProfDir?: string | null;
}

export interface OurServer {
  pid: number;
  port: number;
  http: string;
  ws: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

export const FAST_PROFILES = `profiles:
  - {slug: fast, provider: demo, chunk_delay_ms: 0, allow_overrides: [busy_policy]}
default: fast
`;

export async function startOurServer(o: ServerOptions): Promise<OurServer> {
  const memory = o.db === ':memory:';
  if (!memory) mkdirSync(dirname(o.db), { recursive: true });
  mkdirSync(TMP, { recursive: true });
  const profilesFile = memory ? join(TMP, `memory-${process.pid}-${Date.now()}.profiles.yaml`) : `${o.db}.profiles.yaml`;
  writeFileSync(profilesFile, o.profiles);
  const node = [
    ...(o.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', o.cpuProfDir] : []),
    // BENCH_SERVER_ROOT: run the server of another checkout (before/after comparisons)
    join(process.env.BENCH_SERVER_ROOT ?? ROOT, 'bin/moments-webchat.mjs'),
    'serve', '--port', '0', '--db', o.db, '--profiles', profilesFile, '--log-level', 'error',
    // Frame-rate scenarios must not lose sockets to the 8 MiB default bound (the baseline has none).
    '--ws-send-buffer', '1GiB',
    ...(o.flags ?? []),
  ];
  if (o.cpuProfDir) mkdirSync(o.cpuProfDir, { recursive: true });
  const child = spawn(process.execPath, node, {
    cwd: ROOT,
    env: { ...process.env, WEBCHAT_BENCH: '1', ...o.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start within 30 s:\n${out}`)), 30_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => { out += d.toString(); process.stderr.write(`[server] ${d}`); });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before listening:\n${out}`));
    });
  });
  child.stdout!.resume();
  return {
    pid: child.pid!,
    port,
    http: `http://127.0.0.1:${port}`,
    ws: `ws://127.0.0.1:${port}/ws`,
    child,
    stop: () => stopChild(child),
  };
}

// ---- baselines ------------------------------------------------------------------------------

export interface BaselineServer {
  pid: number;
  port: number;
  http: string;
  ws: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Forks a baseline server file that answers `{type:'listening', port}` over IPC. */
export async function startBaseline(file: string, args: string[] = []): Promise<BaselineServer> {
  const child = forkTs(file, args);
  const m = await nextMessage(child, (x): x is { type: 'listening'; port: number } => x?.type === 'listening', 30_000, file);
  return {
    pid: child.pid!,
    port: m.port,
    http: `http://127.0.0.1:${m.port}`,
    ws: `ws://127.0.0.1:${m.port}/ws`,
    child,
    stop: () => stopChild(child),
  };
}

// ---- load generators ----------------------------------------------------------------------

let cmdIds = 0;

/** A pool of ws-client processes; a command's sockets are split across them. */
export class ClientPool {
  private constructor(readonly procs: ChildProcess[]) {}

  static async start(n: number): Promise<ClientPool> {
    const procs = Array.from({ length: n }, () => forkTs('ws-client.ts'));
    await Promise.all(procs.map((p, i) => nextMessage(p, (m): m is { type: 'ready' } => m?.type === 'ready', 30_000, `client ${i}`)));
    return new ClientPool(procs);
  }

  /**
   * Opens `sockets` (split round-robin over the processes, or only the first `procs`), resolves
   * once every socket got ws.hello; `done` resolves with the merged report once every socket is
   * done; any verification failure rejects both, loudly.
   */
  async open(cmd: Omit<OpenCommand, 'type' | 'id'>, opts: { procs?: number; timeoutMs?: number } = {}) {
    const id = ++cmdIds;
    const n = Math.min(opts.procs ?? this.procs.length, this.procs.length, Math.max(1, cmd.sockets.length));
    const parts: OpenCommand[] = Array.from({ length: n }, () => ({ ...cmd, type: 'open' as const, id, sockets: [] }));
    cmd.sockets.forEach((s, i) => parts[i % n]!.sockets.push(s));
    const used = this.procs.slice(0, n);
    const timeoutMs = opts.timeoutMs ?? 300_000;
    let rejectAll: (e: Error) => void = () => undefined;
    const failed = new Promise<never>((_, reject) => (rejectAll = reject));
    failed.catch(() => undefined);
    const listeners = used.map((p, i) => {
      const l = (m: ClientMessage) => {
        if (m.type === 'error' && m.id === id) rejectAll(new Error(`VERIFICATION FAILED (client ${i}): ${m.error}`));
      };
      p.on('message', l);
      return l;
    });
    const wait = <T extends ClientMessage['type']>(type: T, ms: number) =>
      Promise.race([
        Promise.all(used.map((p, i) => nextMessage(p, (m): m is Extract<ClientMessage, { type: T }> => m?.type === type && m.id === id, ms, `client ${i} ${type}`))),
        failed,
      ]);
    // both waits are registered before the command goes out (a catch-up can be done at once)
    const openedP = wait('opened', timeoutMs);
    const done = 'never' in cmd.until
      ? new Promise<ClientReport>(() => undefined)
      : wait('done', timeoutMs).then((ms) => merge(ms.map((m) => m.report)));
    done.catch(() => undefined);
    used.forEach((p, i) => p.send(parts[i]! satisfies ClientCommand));
    const opened = await openedP;
    return {
      openedAt: Math.max(...opened.map((o) => o.t)),
      done,
      close: async () => {
        used.forEach((p) => p.send({ type: 'close', id } satisfies ClientCommand));
        await Promise.all(used.map((p, i) => nextMessage(p, (m): m is { type: 'closed'; id: number } => m?.type === 'closed' && m.id === id, 30_000, `client ${i} close`)));
        used.forEach((p, i) => p.off('message', listeners[i]!));
      },
    };
  }

  async stop(): Promise<void> {
    await Promise.all(this.procs.map((p) => {
      p.send({ type: 'exit' } satisfies ClientCommand);
      return stopChild(p, 'SIGTERM', 5000);
    }));
  }
}

function merge(rs: ClientReport[]): ClientReport {
  const bins = new Map<number, number>();
  for (const r of rs) for (const [b, n] of r.bins) bins.set(b, (bins.get(b) ?? 0) + n);
  const nLat = rs.reduce((a, r) => a + r.latencies.length, 0);
  const latencies = new Float64Array(nLat);
  let off = 0;
  for (const r of rs) {
    latencies.set(r.latencies, off);
    off += r.latencies.length;
  }
  const firsts = rs.map((r) => r.firstRecv).filter((x) => x > 0);
  return {
    sockets: rs.reduce((a, r) => a + r.sockets, 0),
    frames: rs.reduce((a, r) => a + r.frames, 0),
    deltas: rs.reduce((a, r) => a + r.deltas, 0),
    deltaChars: rs.reduce((a, r) => a + r.deltaChars, 0),
    deltaBytes: rs.reduce((a, r) => a + r.deltaBytes, 0),
    firstRecv: firsts.length ? Math.min(...firsts) : 0,
    lastRecv: Math.max(...rs.map((r) => r.lastRecv)),
    minLastRecv: Math.min(...rs.map((r) => r.minLastRecv || Infinity)),
    tOpenStart: Math.min(...rs.map((r) => r.tOpenStart)),
    latencies,
    bins: [...bins],
  };
}

// ---- HTTP helpers ---------------------------------------------------------------------------

export async function postJson(url: string, body: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  return { status: res.status, json };
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function pool<T, R>(items: readonly T[], limit: number, fn: (x: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  }));
  return out;
}

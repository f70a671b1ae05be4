/**
 * `concurrent`: 1000 conversations × 1 socket, each streaming 50 deltas/s (bench demo command
 * `/stamp N 20`: each delta's text is its production time) for 20 s (5 s in --quick).
 * Delivered frames/s in the steady state (every run started, none finished), p50/p99 latency
 * from production to client receipt (it includes the group-commit window: an upper bound of
 * commit → receipt), server CPU and RSS, bytes the server wrote to disk per byte of frame JSON
 * (write amplification) and its event-loop delay (from /metrics). Baseline: the bare ws server
 * on the same schedule. One more row runs our server with `--coalesce-ms 25` (frame-rate rows
 * run with coalescing off).
 */
import { check, uid, freshDb, type Ctx } from '../lib/context';
import { FAST_PROFILES, meter, pool, postJson, startBaseline, startOurServer } from '../lib/proc';
import { fmtNum, median, percentile, type Row } from '../lib/stats';
import { now } from '../lib/verify';
import { fmtM, type Target } from './fanout';

interface ConcurrentRun {
  frames: number;
  steadyRate: number;
  /** False: no 1 s window with every run streaming; the rate is frames / whole run. */
  steady: boolean;
  /** Runs were stopped at the deadline (the server could not keep the schedule). */
  cancelled: boolean;
  writeMBps: number;
  p50: number;
  p99: number;
  max: number;
  cpuPerS: number;
  rssPeak: number;
  startSpreadMs: number;
  /** Disk bytes written / frame JSON bytes appended (ours only; NaN for the baseline). */
  writeAmp: number;
  /** Event-loop delay p99 and max over the run, ms (ours only). */
  loopP99: number;
  loopMax: number;
}

/** Counters of our server's /metrics that the scenario reads (NaN when absent). */
async function scrape(http: string): Promise<{ frameBytes: number; loopP99: number; loopMax: number }> {
  const text = await (await fetch(`${http}/metrics`)).text();
  const num = (re: RegExp) => {
    const m = re.exec(text);
    return m ? Number(m[1]) : NaN;
  };
  return {
    frameBytes: num(/^webchat_frame_bytes_total (\S+)$/m),
    loopP99: num(/^webchat_event_loop_delay_seconds\{quantile="0\.99"\} (\S+)$/m) * 1000,
    loopMax: num(/^webchat_event_loop_delay_seconds\{quantile="max"\} (\S+)$/m) * 1000,
  };
}

async function runOnce(ctx: Ctx, t: Target, convs: number, deltas: number, everyMs: number, graceMs: number): Promise<ConcurrentRun> {
  const ids = Array.from({ length: convs }, (_, i) => `cc-${t.kind}-${uid()}-${i}`);
  const h = await ctx.clients.open(
    {
      url: t.ws, sockets: ids.map((convId) => ({ convId, since: null })), expect: { kind: 'stamps', count: deltas }, latency: true, bins: true,
      until: { runEnds: 1 }, concurrency: 100, allowStatuses: ['completed', 'cancelled'],
    },
    { timeoutMs: 600_000 },
  );
  // the first scrape resets the event-loop histogram: the second one covers exactly this run
  const before = t.kind === 'ours' ? await scrape(t.http) : null;
  const m = meter(t.pid);
  const t0 = now();
  await pool(ids, 32, async (convId) => {
    const r = await postJson(`${t.http}/chat`, { conv_id: convId, prompt: `/stamp ${deltas} ${everyMs}` });
    check(r.status === 200, `${t.kind}: POST /chat ${convId} answered ${r.status} ${JSON.stringify(r.json)}`);
  });
  const tStarted = now();
  // Bounded: runs still streaming `graceMs` after their nominal end are stopped (POST cancel),
  // so a server that cannot keep the schedule still finishes in bounded time.
  const deadline = tStarted + deltas * everyMs + graceMs;
  let cancelled = false;
  const timer = new Promise<'deadline'>((r) => setTimeout(() => r('deadline'), Math.max(0, deadline - now())).unref());
  if ((await Promise.race([h.done.then(() => 'done' as const), timer])) === 'deadline') {
    cancelled = true;
    await pool(ids, 32, (convId) => postJson(t.kind === 'ours' ? `${t.http}/api/conversations/${convId}/cancel` : `${t.http}/cancel`, t.kind === 'ours' ? {} : { conv_id: convId }));
  }
  const tCancel = cancelled ? now() : Infinity;
  const rep = await h.done;
  const cost = m.stop();
  const after = before ? await scrape(t.http) : null;
  await h.close();
  check(rep.sockets === convs, `${t.kind}: ${rep.sockets} sockets reported, expected ${convs}`);
  // steady state: every run started, none finished (nor stopped)
  const from = Math.ceil(tStarted / 10), to = Math.floor(Math.min(rep.minLastRecv, tCancel) / 10);
  let inWindow = 0;
  for (const [b, n] of rep.bins) if (b >= from && b < to) inWindow += n;
  const windowMs = (to - from) * 10;
  const steady = windowMs >= 1000;
  return {
    frames: rep.frames,
    steadyRate: steady ? (inWindow / windowMs) * 1000 : (rep.frames / (rep.lastRecv - t0)) * 1000,
    steady,
    cancelled,
    p50: percentile(rep.latencies, 50),
    p99: percentile(rep.latencies, 99),
    max: percentile(rep.latencies, 100),
    cpuPerS: cost.cpuMs / cost.wallMs,
    rssPeak: cost.rssPeak,
    writeMBps: cost.writeBytes / 2 ** 20 / (cost.wallMs / 1000),
    startSpreadMs: tStarted - t0,
    writeAmp: before && after ? cost.writeBytes / Math.max(1, after.frameBytes - before.frameBytes) : NaN,
    loopP99: after?.loopP99 ?? NaN,
    loopMax: after?.loopMax ?? NaN,
  };
}

export async function concurrent(ctx: Ctx): Promise<Row[]> {
  const convs = ctx.quick ? 300 : 1000;
  const everyMs = 20;
  const seconds = ctx.quick ? 4 : 20;
  const graceMs = ctx.quick ? 3000 : 5000;
  const deltas = (seconds * 1000) / everyMs;
  const runs: { ours: ConcurrentRun; baseline: ConcurrentRun; coalesced: ConcurrentRun }[] = [];
  // a fresh pair of servers per repeat: the conversations of a repeat stay loaded (and their hot
  // windows in memory) for --evict-idle, which would inflate the next repeat's RSS
  for (let r = 0; r < ctx.repeats; r++) {
    const ours = await startOurServer({ db: freshDb('concurrent'), profiles: FAST_PROFILES, cpuProfDir: ctx.cpuProfDir });
    const base = await startBaseline('baseline-ws-server.ts');
    try {
      const targets: Target[] = [
        { kind: 'ours', pid: ours.pid, http: ours.http, ws: ours.ws },
        { kind: 'baseline', pid: base.pid, http: base.http, ws: base.ws },
      ];
      const out: Partial<Record<Target['kind'], ConcurrentRun>> = {};
      for (const t of r % 2 === 0 ? targets : [...targets].reverse()) out[t.kind] = await runOnce(ctx, t, convs, deltas, everyMs, graceMs);
      await ours.stop();
      const co = await startOurServer({ db: freshDb('concurrent-coalesced'), profiles: FAST_PROFILES, flags: ['--coalesce-ms', '25'] });
      let coalesced: ConcurrentRun;
      try {
        coalesced = await runOnce(ctx, { kind: 'ours', pid: co.pid, http: co.http, ws: co.ws }, convs, deltas, everyMs, graceMs);
      } finally {
        await co.stop();
      }
      runs.push({ ...(out as { ours: ConcurrentRun; baseline: ConcurrentRun }), coalesced });
      const o = out.ours!, b = out.baseline!;
      ctx.log(`concurrent: ours ${o.steadyRate.toFixed(0)} frames/s${o.steady ? '' : ' (no steady window)'}${o.cancelled ? ' (stopped at the deadline)' : ''} start ${o.startSpreadMs.toFixed(0)} ms write ${o.writeMBps.toFixed(0)} MB/s p50 ${o.p50.toFixed(1)} p99 ${o.p99.toFixed(1)} ms cpu ${(o.cpuPerS * 100).toFixed(0)}%; baseline ${b.steadyRate.toFixed(0)} frames/s p50 ${b.p50.toFixed(1)} p99 ${b.p99.toFixed(1)} ms cpu ${(b.cpuPerS * 100).toFixed(0)}%; write amp ${o.writeAmp.toFixed(2)}× loop p99 ${o.loopP99.toFixed(1)} ms; coalesced ${coalesced.steadyRate.toFixed(0)} frames/s p99 ${coalesced.p99.toFixed(1)} ms`);
    } finally {
      await ours.stop();
      await base.stop();
    }
  }
  const med = (f: (x: ConcurrentRun) => number, k: 'ours' | 'baseline' | 'coalesced') => median(runs.map((x) => f(x[k])));
  const rate = { o: med((x) => x.steadyRate, 'ours'), b: med((x) => x.steadyRate, 'baseline') };
  const rateRatio = median(runs.map((x) => x.ours.steadyRate / x.baseline.steadyRate));
  const p99 = { o: med((x) => x.p99, 'ours'), b: med((x) => x.p99, 'baseline') };
  const p99Diff = median(runs.map((x) => x.ours.p99 - x.baseline.p99));
  const writeAmp = med((x) => x.writeAmp, 'ours');
  const loopP99 = med((x) => x.loopP99, 'ours');
  const c = `${convs} convs × 1 socket, 50 deltas/s, ${seconds} s`;
  const stopped = runs.filter((x) => x.ours.cancelled).length;
  const info = `CPU ${(med((x) => x.cpuPerS, 'ours') * 100).toFixed(0)}% vs ${(med((x) => x.cpuPerS, 'baseline') * 100).toFixed(0)}% of a core; RSS peak ${fmtM(med((x) => x.rssPeak, 'ours'))} vs ${fmtM(med((x) => x.rssPeak, 'baseline'))}; server writes ${med((x) => x.writeMBps, 'ours').toFixed(0)} MB/s to disk; 0 lost, 0 doubled${stopped ? `; ${stopped}/${runs.length} of our runs could not keep the schedule and were stopped ${graceMs / 1000} s after their nominal end` : ''}`;
  return [
    { scenario: 'concurrent', case: c, metric: 'delivered frames/s', ours: rate.o, baseline: rate.b, ratio: rateRatio, goal: '≥ 0.9×', pass: rateRatio >= 0.9, info, runs },
    {
      scenario: 'concurrent', case: c, metric: 'delivered frames/s (absolute)', ours: rate.o, baseline: null, ratio: null,
      goal: `≥ ${(convs * 50) / 1000}k/s`, pass: rate.o >= convs * 50 * 0.95,
      info: `offered: ${convs} × 50/s = ${(convs * 50) / 1000}k/s${convs === 1000 ? '' : ' (quick size; the goal of performance.md is 50k/s with 1000)'}; the baseline reached ${fmtNum(rate.b)}/s`,
    },
    {
      scenario: 'concurrent', case: c, metric: 'disk bytes / frame bytes', ours: writeAmp, baseline: null, ratio: null, digits: 2,
      goal: '≤ 3', pass: writeAmp <= 3, info: `bytes the server process wrote to storage (/proc io) per byte of frame JSON appended (webchat_frame_bytes_total)`,
    },
    {
      scenario: 'concurrent', case: c, metric: 'event-loop delay p99 ms', ours: loopP99, baseline: null, ratio: null, digits: 1,
      goal: '≤ 20 ms', pass: loopP99 <= 20, info: `max ${med((x) => x.loopMax, 'ours').toFixed(0)} ms (webchat_event_loop_delay_seconds over the run)`,
    },
    {
      scenario: 'concurrent', case: `${c}, --coalesce-ms 25`, metric: 'p99 latency ms (stamp → receipt)', ours: med((x) => x.p99, 'coalesced'), baseline: p99.b, ratio: median(runs.map((x) => x.coalesced.p99 - x.baseline.p99)), ratioKind: 'diff',
      goal: 'info', pass: null,
      info: `delivered ${fmtNum(med((x) => x.steadyRate, 'coalesced'))} frames/s for ${convs * 50} deltas/s offered; write amp ${med((x) => x.writeAmp, 'coalesced').toFixed(2)}×; loop p99 ${med((x) => x.loopP99, 'coalesced').toFixed(1)} ms; CPU ${(med((x) => x.cpuPerS, 'coalesced') * 100).toFixed(0)}%`,
    },
    { scenario: 'concurrent', case: c, metric: 'p99 latency ms', ours: p99.o, baseline: p99.b, ratio: p99Diff, ratioKind: 'diff', goal: '≤ baseline + 40 ms', pass: p99Diff <= 40, info: `p50 ${med((x) => x.p50, 'ours').toFixed(1)} vs ${med((x) => x.p50, 'baseline').toFixed(1)} ms; max ${med((x) => x.max, 'ours').toFixed(0)} vs ${med((x) => x.max, 'baseline').toFixed(0)} ms` },
  ];
}

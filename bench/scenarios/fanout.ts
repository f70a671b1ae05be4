/**
 * `fanout`: one conversation, demo `/stream N 0`, 1 / 10 / 100 sockets; delivered frames/s and
 * characters/s, durable log on, coalescing off (there is none). Baseline: the bare ws server
 * sending the same pre-serialized frames on the same schedule.
 */
import { check, freshDb, uid, type Ctx } from '../lib/context';
import { FAST_PROFILES, meter, postJson, startBaseline, startOurServer } from '../lib/proc';
import { median, type Row } from '../lib/stats';
import { now } from '../lib/verify';

export interface Target {
  kind: 'ours' | 'baseline';
  pid: number;
  http: string;
  ws: string;
}

export interface StreamRun {
  frames: number;
  framesPerS: number;
  charsPerS: number;
  cpuMs: number;
  rssPeak: number;
  elapsedMs: number;
}

/** One `/stream words 0` run to `sockets` live sockets of a new conversation, verified. */
export async function streamRun(ctx: Ctx, t: Target, sockets: number, words: number, label: string): Promise<StreamRun> {
  const convId = `${label}-${t.kind}-${uid()}`;
  const prompt = `/stream ${words} 0`;
  const h = await ctx.clients.open(
    { url: t.ws, sockets: Array.from({ length: sockets }, () => ({ convId, since: null })), expect: { kind: 'words', words }, until: { runEnds: 1 } },
    { procs: sockets === 1 ? 1 : undefined },
  );
  if (t.kind === 'baseline') check((await postJson(`${t.http}/prepare`, { conv_id: convId, prompt })).status === 200, 'baseline prepare');
  const m = meter(t.pid);
  const t0 = now();
  const res = await postJson(`${t.http}/chat`, { conv_id: convId, prompt });
  check(res.status === 200, `POST /chat answered ${res.status} ${JSON.stringify(res.json)}`);
  const rep = await h.done;
  const cost = m.stop();
  await h.close();
  const expected = sockets * (words + 5);
  check(rep.frames === expected, `${t.kind}: ${rep.frames} frames delivered, expected ${expected}`);
  check(rep.deltas === sockets * words, `${t.kind}: ${rep.deltas} deltas, expected ${sockets * words}`);
  const elapsedMs = rep.lastRecv - t0;
  return { frames: rep.frames, framesPerS: (rep.frames / elapsedMs) * 1000, charsPerS: (rep.deltaChars / elapsedMs) * 1000, cpuMs: cost.cpuMs, rssPeak: cost.rssPeak, elapsedMs };
}

export const FANOUT_GOAL = 0.6;

export function fanoutSizes(quick: boolean): { sockets: number; words: number }[] {
  // profiling aid: BENCH_FANOUT_SIZES=1x100000,10x100000
  const env = process.env.BENCH_FANOUT_SIZES;
  if (env) return env.split(',').map((x) => { const [s, w] = x.split('x').map(Number); return { sockets: s!, words: w! }; });
  return quick
    ? [{ sockets: 1, words: 20_000 }, { sockets: 10, words: 20_000 }, { sockets: 100, words: 5_000 }]
    : [{ sockets: 1, words: 100_000 }, { sockets: 10, words: 100_000 }, { sockets: 100, words: 20_000 }];
}

export async function fanout(ctx: Ctx): Promise<Row[]> {
  const ours = await startOurServer({ db: freshDb('fanout'), profiles: FAST_PROFILES, cpuProfDir: ctx.cpuProfDir });
  const base = await startBaseline('baseline-ws-server.ts');
  const rows: Row[] = [];
  try {
    const targets: Target[] = [
      { kind: 'ours', pid: ours.pid, http: ours.http, ws: ours.ws },
      { kind: 'baseline', pid: base.pid, http: base.http, ws: base.ws },
    ];
    // warm-up (JIT, SQLite pages): one small run each, not measured
    for (const t of targets) await streamRun(ctx, t, 1, 5000, 'warm');
    for (const { sockets, words } of fanoutSizes(ctx.quick)) {
      const runs: { ours: StreamRun; baseline: StreamRun }[] = [];
      for (let r = 0; r < ctx.repeats; r++) {
        const order = r % 2 === 0 ? targets : [...targets].reverse();
        const out: Partial<Record<Target['kind'], StreamRun>> = {};
        for (const t of order) out[t.kind] = await streamRun(ctx, t, sockets, words, 'fanout');
        runs.push(out as { ours: StreamRun; baseline: StreamRun });
        ctx.log(`fanout ${sockets} socket(s) × ${words}: ours ${out.ours!.framesPerS.toFixed(0)} frames/s, baseline ${out.baseline!.framesPerS.toFixed(0)} frames/s`);
      }
      const o = median(runs.map((x) => x.ours.framesPerS));
      const b = median(runs.map((x) => x.baseline.framesPerS));
      const ratio = median(runs.map((x) => x.ours.framesPerS / x.baseline.framesPerS));
      rows.push({
        scenario: 'fanout',
        case: `${sockets} socket${sockets > 1 ? 's' : ''}, ${words / 1000}k deltas`,
        metric: 'frames/s',
        ours: o,
        baseline: b,
        ratio,
        goal: `≥ ${FANOUT_GOAL}×`,
        pass: ratio >= FANOUT_GOAL,
        info: `chars/s ${fmtK(median(runs.map((x) => x.ours.charsPerS)))} vs ${fmtK(median(runs.map((x) => x.baseline.charsPerS)))}; server CPU ${fmtS(median(runs.map((x) => x.ours.cpuMs)))} vs ${fmtS(median(runs.map((x) => x.baseline.cpuMs)))}; RSS peak (one server for the whole scenario) ${fmtM(median(runs.map((x) => x.ours.rssPeak)))} vs ${fmtM(median(runs.map((x) => x.baseline.rssPeak)))}`,
        runs,
      });
    }
  } finally {
    await ours.stop();
    await base.stop();
  }
  return rows;
}

export const fmtK = (x: number) => `${(x / 1000).toFixed(0)}k`;
export const fmtS = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
export const fmtM = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;

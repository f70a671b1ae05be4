/**
 * `idle`: 10k connected sockets over 1000 conversations (2k over 200 in --quick); RSS per
 * socket = (RSS with the sockets, settled − RSS before) / sockets. Baseline: a bare ws server
 * holding the same sockets (by conversation). A fresh server process per repeat.
 */
import { check, freshDb, uid, type Ctx } from '../lib/context';
import { FAST_PROFILES, rssBytes, sleep, startBaseline, startOurServer } from '../lib/proc';
import { median, type Row } from '../lib/stats';

interface IdleRun {
  before: number;
  after: number;
  perSocket: number;
  connectMs: number;
}

async function settledRss(pid: number): Promise<number> {
  await sleep(2000);
  const xs: number[] = [];
  for (let i = 0; i < 5; i++) {
    xs.push(rssBytes(pid));
    await sleep(200);
  }
  return median(xs);
}

async function idleRun(ctx: Ctx, kind: 'ours' | 'baseline', sockets: number, convs: number): Promise<IdleRun> {
  const srv = kind === 'ours' ? await startOurServer({ db: freshDb('idle'), profiles: FAST_PROFILES }) : await startBaseline('baseline-ws-server.ts');
  try {
    // warm-up: one socket in and out (loads the ws code paths), then the "before" RSS
    const w = await ctx.clients.open({ url: srv.ws, sockets: [{ convId: `warm-${uid()}`, since: null }], expect: { kind: 'any' }, until: { never: true } }, { procs: 1 });
    await w.close();
    const before = await settledRss(srv.pid);
    const tag = uid();
    const list = Array.from({ length: sockets }, (_, i) => ({ convId: `idle-${tag}-${i % convs}`, since: null }));
    const t0 = performance.now();
    const h = await ctx.clients.open({ url: srv.ws, sockets: list, expect: { kind: 'any' }, until: { never: true }, concurrency: 200 }, { timeoutMs: 300_000 });
    const connectMs = performance.now() - t0;
    const after = await settledRss(srv.pid);
    await h.close();
    check(after > 0 && before > 0, 'RSS unreadable');
    return { before, after, perSocket: (after - before) / sockets, connectMs };
  } finally {
    await srv.stop();
  }
}

export async function idle(ctx: Ctx): Promise<Row[]> {
  const sockets = ctx.quick ? 2000 : 10_000;
  const convs = sockets / 10;
  const runs: { ours: IdleRun; baseline: IdleRun }[] = [];
  for (let r = 0; r < ctx.repeats; r++) {
    const out: Partial<Record<'ours' | 'baseline', IdleRun>> = {};
    for (const k of r % 2 === 0 ? (['ours', 'baseline'] as const) : (['baseline', 'ours'] as const)) out[k] = await idleRun(ctx, k, sockets, convs);
    runs.push(out as { ours: IdleRun; baseline: IdleRun });
    ctx.log(`idle ${sockets}: ours ${(out.ours!.perSocket / 1024).toFixed(1)} KiB/socket (connect ${out.ours!.connectMs.toFixed(0)} ms), baseline ${(out.baseline!.perSocket / 1024).toFixed(1)} KiB/socket`);
  }
  const o = median(runs.map((x) => x.ours.perSocket));
  const b = median(runs.map((x) => x.baseline.perSocket));
  const ratio = median(runs.map((x) => x.ours.perSocket / x.baseline.perSocket));
  return [{
    scenario: 'idle',
    case: `${sockets / 1000}k sockets over ${convs} conversations`,
    metric: 'RSS KiB/socket',
    ours: o / 1024,
    baseline: b / 1024,
    ratio,
    goal: '≤ 1.5×',
    pass: ratio <= 1.5,
    info: `RSS ${(median(runs.map((x) => x.ours.before)) / 2 ** 20).toFixed(0)} → ${(median(runs.map((x) => x.ours.after)) / 2 ** 20).toFixed(0)} MiB vs ${(median(runs.map((x) => x.baseline.before)) / 2 ** 20).toFixed(0)} → ${(median(runs.map((x) => x.baseline.after)) / 2 ** 20).toFixed(0)} MiB; connect ${(median(runs.map((x) => x.ours.connectMs)) / 1000).toFixed(1)} s vs ${(median(runs.map((x) => x.baseline.connectMs)) / 1000).toFixed(1)} s`,
    runs,
  }];
}

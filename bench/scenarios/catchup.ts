/**
 * `catchup`: resume with `since=0` and `since=half` on a 100k-frame conversation (20k in
 * --quick), from the hot window (conversation loaded) and after a restart (a fresh server
 * process on the same file). Baseline: the store-only reader (same rows, same file, same
 * pacing, no server logic), warm for the hot cases and a fresh process after "restart".
 */
import { check, freshDb, uid, type Ctx } from '../lib/context';
import { FAST_PROFILES, meter, postJson, startBaseline, startOurServer, type BaselineServer, type OurServer } from '../lib/proc';
import { median, type Row } from '../lib/stats';
import { storeCost } from '../lib/store-cost';
import type { Expect } from '../lib/verify';
import { fmtS } from './fanout';

interface CatchupRun {
  frames: number;
  ms: number;
  rate: number;
  cpuMs: number;
}

async function resume(ctx: Ctx, pid: number, ws: string, convId: string, since: number, expect: Expect, lastSeq: number): Promise<CatchupRun> {
  const m = meter(pid);
  const h = await ctx.clients.open({ url: ws, sockets: [{ convId, since }], expect, until: { helloSeq: true } }, { procs: 1 });
  const rep = await h.done;
  const cost = m.stop();
  await h.close();
  check(rep.frames === lastSeq - since, `catch-up since=${since}: ${rep.frames} frames, expected ${lastSeq - since}`);
  const ms = rep.lastRecv - rep.tOpenStart;
  return { frames: rep.frames, ms, rate: (rep.frames / ms) * 1000, cpuMs: cost.cpuMs };
}

export async function catchup(ctx: Ctx): Promise<Row[]> {
  const total = ctx.quick ? 20_000 : 100_000;
  const words = total - 5;
  const half = total / 2;
  const db = freshDb('catchup');
  const convId = `catchup-${uid()}`;
  const expect: Expect = { kind: 'words', words };
  let ours: OurServer = await startOurServer({ db, profiles: FAST_PROFILES });
  let base: BaselineServer | null = null;
  const cases = [
    { name: `since=0, hot`, since: 0, cold: false },
    { name: `since=${half / 1000}k, hot`, since: half, cold: false },
    { name: `since=0, after restart`, since: 0, cold: true },
    { name: `since=${half / 1000}k, after restart`, since: half, cold: true },
  ];
  const runs = new Map<string, { ours: CatchupRun; baseline: CatchupRun }[]>(cases.map((c) => [c.name, []]));
  let deltaWire = 0;
  try {
    // the conversation: one /stream run, watched to its end by a live socket
    const h = await ctx.clients.open({ url: ours.ws, sockets: [{ convId, since: null }], expect, until: { runEnds: 1 } }, { procs: 1 });
    check((await postJson(`${ours.http}/chat`, { conv_id: convId, prompt: `/stream ${words} 0` })).status === 200, 'POST /chat');
    const made = await h.done;
    await h.close();
    check(made.frames === total, `the conversation has ${made.frames} frames, expected ${total}`);
    deltaWire = made.deltaBytes / made.deltas;
    base = await startBaseline('baseline-catchup-server.ts', [db]);
    await resume(ctx, base.pid, base.ws, convId, 0, expect, total); // warm the baseline's cache like ours is warm
    for (let r = 0; r < ctx.repeats; r++) {
      for (const c of cases) {
        if (c.cold) {
          await ours.stop();
          ours = await startOurServer({ db, profiles: FAST_PROFILES });
          await base.stop();
          base = await startBaseline('baseline-catchup-server.ts', [db]);
        }
        const o = await resume(ctx, ours.pid, ours.ws, convId, c.since, expect, total);
        const b = await resume(ctx, base.pid, base.ws, convId, c.since, expect, total);
        runs.get(c.name)!.push({ ours: o, baseline: b });
        ctx.log(`catchup ${c.name}: ours ${o.frames} frames in ${o.ms.toFixed(0)} ms (${o.rate.toFixed(0)}/s), baseline ${b.ms.toFixed(0)} ms (${b.rate.toFixed(0)}/s)`);
      }
      // back to a hot server for the next repeat
      if (r < ctx.repeats - 1) await resume(ctx, ours.pid, ours.ws, convId, 0, expect, total);
    }
  } finally {
    await ours.stop();
    if (base) await base.stop();
  }
  const cost = storeCost(db);
  ctx.log(`store: ${JSON.stringify(cost)}`);
  const costRows: Row[] = [
    {
      scenario: 'cost', case: 'llm.delta frame on the wire', metric: 'bytes', ours: deltaWire + (deltaWire < 126 ? 2 : 4), baseline: null, ratio: null, goal: '–', pass: null,
      info: `envelope ${deltaWire.toFixed(0)} B (JSON: type, seq, message id twice, offset; the \`/stream\` words are 2–7 characters) + ${deltaWire < 126 ? 2 : 4} B WebSocket header`,
    },
    {
      scenario: 'cost', case: `store, ${cost.frames / 1000}k-frame conversation`, metric: 'bytes/frame', ours: cost.bytesPerFrame, baseline: null, ratio: null, goal: '–', pass: null,
      info: `SQLite file ${(cost.fileBytes / 2 ** 20).toFixed(1)} MiB for ${cost.frames} frames (delta JSON ${cost.jsonBytesPerDelta.toFixed(0)} B + key, epoch, type, entity id, time; B-tree overhead)`,
    },
    {
      scenario: 'cost', case: 'store rows', metric: 'rows/frame', ours: cost.rowsPerFrame, baseline: null, ratio: null, goal: '–', pass: null, digits: 4,
      info: Object.entries(cost.rows).filter(([, n]) => n > 0).map(([t, n]) => `${t} ${n}`).join(', '),
    },
  ];
  return [...cases.map((c) => {
    const rs = runs.get(c.name)!;
    const ratio = median(rs.map((x) => x.ours.rate / x.baseline.rate));
    const oMs = median(rs.map((x) => x.ours.ms));
    return {
      scenario: 'catchup',
      case: `${total / 1000}k-frame conversation, ${c.name}`,
      metric: 'frames/s',
      ours: median(rs.map((x) => x.ours.rate)),
      baseline: median(rs.map((x) => x.baseline.rate)),
      ratio,
      goal: '≥ 0.5×',
      pass: ratio >= 0.5,
      info: `${total - c.since} frames in ${oMs.toFixed(0)} ms vs ${median(rs.map((x) => x.baseline.ms)).toFixed(0)} ms; server CPU ${fmtS(median(rs.map((x) => x.ours.cpuMs)))} vs ${fmtS(median(rs.map((x) => x.baseline.cpuMs)))}`,
      runs: rs,
    } satisfies Row;
  }), ...costRows];
}

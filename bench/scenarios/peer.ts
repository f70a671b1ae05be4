/**
 * `peer`: the Vercel AI SDK (`streamText` → UI message stream over SSE, mock model) vs our
 * server fed by `demo` — same tokens and sizes, one client each; tokens per server CPU-second
 * (CPU of the server process, /proc utime+stime, from the request to the last byte received).
 * Our side does more per token: durable log (SQLite), projection, seq, WebSocket framing.
 */
import { check, freshDb, uid, type Ctx } from '../lib/context';
import { FAST_PROFILES, forkTs, meter, nextMessage, postJson, startBaseline, startOurServer, stopChild } from '../lib/proc';
import { median, type Row } from '../lib/stats';
import { now } from '../lib/verify';
import type { SseReport, SseRun } from '../sse-client';

interface PeerRun {
  /** Bytes on the wire per token (SSE event / WebSocket payload). */
  bytesPerToken: number;
  tokensPerCpuS: number;
  tokensPerS: number;
  cpuMs: number;
}

export async function peer(ctx: Ctx): Promise<Row[]> {
  const sizes = ctx.quick ? [10_000] : [10_000, 100_000];
  const ours = await startOurServer({ db: freshDb('peer'), profiles: FAST_PROFILES });
  const sdk = await startBaseline('aisdk-server.ts');
  const sse = forkTs('sse-client.ts');
  await nextMessage(sse, (m): m is { type: 'ready' } => m?.type === 'ready', 30_000, 'sse-client');
  const rows: Row[] = [];
  // `count` answers back to back per measurement, so the CPU time is well above /proc's 10 ms tick
  const sdkRun = async (words: number, count = 1): Promise<PeerRun> => {
    const m = meter(sdk.pid);
    let wall = 0;
    let bytes = 0;
    for (let i = 0; i < count; i++) {
      const answer = nextMessage(sse, (x): x is { type: 'done'; report: SseReport } | { type: 'error'; error: string } => x?.type === 'done' || x?.type === 'error', 600_000, 'sse-client run');
      sse.send({ type: 'run', url: `${sdk.http}/api/chat`, prompt: `/stream ${words} 0`, words } satisfies SseRun);
      const a = await answer;
      if (a.type === 'error') throw new Error(`VERIFICATION FAILED (AI SDK stream): ${a.error}`);
      wall += a.report.tLast - a.report.t0;
      bytes += a.report.bytes;
    }
    const cost = m.stop();
    const tokens = words * count;
    return { bytesPerToken: bytes / tokens, tokensPerCpuS: tokens / (cost.cpuMs / 1000), tokensPerS: (tokens / wall) * 1000, cpuMs: cost.cpuMs / count };
  };
  const ourRun = async (words: number, count = 1): Promise<PeerRun> => {
    const m = meter(ours.pid);
    let wall = 0;
    let bytes = 0;
    for (let i = 0; i < count; i++) {
      const convId = `peer-${uid()}`;
      const h = await ctx.clients.open({ url: ours.ws, sockets: [{ convId, since: null }], expect: { kind: 'words', words }, until: { runEnds: 1 } }, { procs: 1 });
      const t0 = now();
      const res = await postJson(`${ours.http}/chat`, { conv_id: convId, prompt: `/stream ${words} 0` });
      check(res.status === 200, `POST /chat ${res.status}`);
      const rep = await h.done;
      await h.close();
      check(rep.deltas === words, `${rep.deltas} deltas, expected ${words}`);
      wall += rep.lastRecv - t0;
      bytes += rep.deltaBytes;
    }
    const cost = m.stop();
    const tokens = words * count;
    return { bytesPerToken: bytes / tokens, tokensPerCpuS: tokens / (cost.cpuMs / 1000), tokensPerS: (tokens / wall) * 1000, cpuMs: cost.cpuMs / count };
  };
  try {
    // warm-up (JIT): both servers reach their steady state before anything is measured
    for (let i = 0; i < 3; i++) {
      await sdkRun(10_000);
      await ourRun(10_000);
    }
    for (const words of sizes) {
      const runs: { ours: PeerRun; baseline: PeerRun }[] = [];
      for (let r = 0; r < ctx.repeats; r++) {
        const count = Math.max(1, Math.round(50_000 / words));
        const b = r % 2 === 0 ? await sdkRun(words, count) : null;
        const o = await ourRun(words, count);
        const b2 = b ?? (await sdkRun(words, count));
        runs.push({ ours: o, baseline: b2 });
        ctx.log(`peer ${words}: ours ${o.tokensPerCpuS.toFixed(0)} tokens/CPU-s (${o.tokensPerS.toFixed(0)}/s), AI SDK ${b2.tokensPerCpuS.toFixed(0)} tokens/CPU-s (${b2.tokensPerS.toFixed(0)}/s)`);
      }
      const ratio = median(runs.map((x) => x.ours.tokensPerCpuS / x.baseline.tokensPerCpuS));
      rows.push({
        scenario: 'peer',
        case: `${words / 1000}k-token answer${words < 50_000 ? ` (×${Math.round(50_000 / words)} per measurement)` : ''}, 1 client`,
        metric: 'tokens per server CPU-s',
        ours: median(runs.map((x) => x.ours.tokensPerCpuS)),
        baseline: median(runs.map((x) => x.baseline.tokensPerCpuS)),
        ratio,
        goal: '≥ 5×',
        pass: ratio >= 5,
        info: `delivered ${median(runs.map((x) => x.ours.tokensPerS)).toFixed(0)} vs ${median(runs.map((x) => x.baseline.tokensPerS)).toFixed(0)} tokens/s; wire ${median(runs.map((x) => x.ours.bytesPerToken)).toFixed(0)} vs ${median(runs.map((x) => x.baseline.bytesPerToken)).toFixed(0)} B/token (durable, seq'd frame vs SSE text-delta); server CPU ${(median(runs.map((x) => x.ours.cpuMs)) / 1000).toFixed(2)} s vs ${(median(runs.map((x) => x.baseline.cpuMs)) / 1000).toFixed(2)} s per answer`,
        runs,
      });
    }
  } finally {
    sse.send({ type: 'exit' });
    await stopChild(sse, 'SIGTERM', 5000);
    await ours.stop();
    await sdk.stop();
  }
  return rows;
}

/**
 * `sdk-e2e`: the OpenAI Chat Completions engine (official SDK) pointed by a profile at a local
 * recorded-SSE server streaming the same words at full speed, through loop, log and WebSocket
 * (1 socket). Compared with `fanout` (demo engine, 1 socket) of the same size in this run.
 */
import { check, freshDb, type Ctx } from '../lib/context';
import { FAST_PROFILES, nextMessage, startBaseline, startOurServer } from '../lib/proc';
import { median, type Row } from '../lib/stats';
import { fanoutSizes, streamRun, type StreamRun, type Target } from './fanout';

export async function sdkE2e(ctx: Ctx): Promise<Row[]> {
  const words = fanoutSizes(ctx.quick)[0]!.words;
  const sseSrv = await startBaseline('sse-server.ts');
  const profiles = `profiles:
  - {slug: oai, provider: openai, model: gpt-4o-mini, base_url: "http://127.0.0.1:${sseSrv.port}/v1", api_key_env: BENCH_KEY, tools: []}
  - {slug: fast, provider: demo, chunk_delay_ms: 0}
default: oai
`;
  const viaSdk = await startOurServer({ db: freshDb('sdk-e2e'), profiles, env: { BENCH_KEY: 'sk-bench-local-0000' }, cpuProfDir: ctx.cpuProfDir });
  const demo = await startOurServer({ db: freshDb('sdk-e2e-demo'), profiles: FAST_PROFILES });
  const runs: { ours: StreamRun; baseline: StreamRun }[] = [];
  try {
    const sdkT: Target = { kind: 'ours', pid: viaSdk.pid, http: viaSdk.http, ws: viaSdk.ws };
    const demoT: Target = { kind: 'ours', pid: demo.pid, http: demo.http, ws: demo.ws };
    const push = async (n: number) => {
      const ack = nextMessage(sseSrv.child, (m): m is { type: 'pushed' } => m?.type === 'pushed', 10_000, 'sse-server push');
      sseSrv.child.send({ type: 'push', words: n });
      await ack;
    };
    await push(2000);
    await streamRun(ctx, sdkT, 1, 2000, 'sdk-warm');
    await streamRun(ctx, demoT, 1, 2000, 'demo-warm');
    for (let r = 0; r < ctx.repeats; r++) {
      await push(words);
      const o = await streamRun(ctx, sdkT, 1, words, 'sdk-e2e');
      const b = await streamRun(ctx, demoT, 1, words, 'sdk-e2e-fanout');
      runs.push({ ours: o, baseline: b });
      ctx.log(`sdk-e2e ${words}: OpenAI engine ${o.framesPerS.toFixed(0)} frames/s, demo ${b.framesPerS.toFixed(0)} frames/s`);
    }
  } finally {
    await viaSdk.stop();
    await demo.stop();
    await sseSrv.stop();
  }
  check(runs.length > 0, 'no runs');
  const ratio = median(runs.map((x) => x.ours.framesPerS / x.baseline.framesPerS));
  return [{
    scenario: 'sdk-e2e',
    case: `OpenAI SDK engine ← local recorded SSE, ${words / 1000}k deltas, 1 socket`,
    metric: 'frames/s',
    ours: median(runs.map((x) => x.ours.framesPerS)),
    baseline: median(runs.map((x) => x.baseline.framesPerS)),
    ratio,
    goal: '≥ 0.5× fanout',
    pass: ratio >= 0.5,
    info: `baseline = fanout (demo engine, 1 socket) measured alongside; server CPU ${(median(runs.map((x) => x.ours.cpuMs)) / 1000).toFixed(2)} s vs ${(median(runs.map((x) => x.baseline.cpuMs)) / 1000).toFixed(2)} s (the SSE server is another process)`,
    runs,
  }];
}

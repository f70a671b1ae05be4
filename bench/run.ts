/**
 * `npm run bench [-- scenario…] [--quick] [--json out.json] [--cpu-prof] [--repeats N] [--soak-seconds S]`
 *
 * Runs the scenarios of ../shared/spec/performance.md against our server (its own process) and
 * each scenario's baseline in the same invocation, with load generators in separate processes,
 * and prints one table: medians over repeats, the ratio, the goal, CPU and RSS. Every scenario
 * verifies what it received and fails loudly otherwise. A benchmark is never a test.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import type { Ctx, Scenario } from './lib/context';
import { ClientPool, OUT, TMP } from './lib/proc';
import { markdownTable, type Row } from './lib/stats';
import { catchup } from './scenarios/catchup';
import { concurrent } from './scenarios/concurrent';
import { fanout } from './scenarios/fanout';
import { idle } from './scenarios/idle';
import { peer } from './scenarios/peer';
import { sdkE2e } from './scenarios/sdk-e2e';
import { soak } from './scenarios/soak';

const SCENARIOS: Record<string, Scenario | 'n/a'> = {
  fanout,
  concurrent,
  idle,
  catchup,
  peer,
  'sdk-e2e': sdkE2e,
  soak,
  scaleout: 'n/a',
};
const ORDER = ['fanout', 'concurrent', 'idle', 'catchup', 'peer', 'sdk-e2e', 'soak', 'scaleout'];

function parseArgs(argv: string[]) {
  const o = { scenarios: [] as string[], quick: false, json: null as string | null, cpuProf: false, repeats: 0, soakSeconds: 0 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') o.quick = true;
    else if (a === '--json') o.json = argv[++i] ?? null;
    else if (a === '--cpu-prof') o.cpuProf = true;
    else if (a === '--repeats') o.repeats = Number(argv[++i]);
    else if (a === '--soak-seconds') o.soakSeconds = Number(argv[++i]);
    else if (a === '--help' || a === '-h') {
      console.log(`usage: npm run bench [-- scenario…] [--quick] [--json out.json] [--cpu-prof] [--repeats N] [--soak-seconds S]\nscenarios: ${ORDER.join(', ')}`);
      process.exit(0);
    } else if (a.startsWith('-')) throw new Error(`unknown flag ${a}`);
    else if (!(a in SCENARIOS)) throw new Error(`unknown scenario ${a} (known: ${ORDER.join(', ')})`);
    else o.scenarios.push(a);
  }
  if (o.scenarios.length === 0) o.scenarios = ORDER.filter((s) => s in SCENARIOS);
  return o;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  mkdirSync(TMP, { recursive: true });
  const started = Date.now();
  const clients = await ClientPool.start(2);
  const ctx: Ctx = {
    quick: args.quick,
    repeats: args.repeats || (args.quick ? 1 : 3),
    clients,
    cpuProfDir: args.cpuProf ? join(OUT, 'prof') : null,
    results: new Map(),
    log: (m) => console.log(`  ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s  ${m}`),
  };
  (ctx as Ctx & { soakSeconds?: number }).soakSeconds = args.soakSeconds || undefined;
  const machine = `${cpus().length} cores (${cpus()[0]?.model.trim() ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
  console.log(`moments-webchat bench — ${new Date().toISOString().slice(0, 10)} — ${machine} — ${args.quick ? 'quick' : 'full'} mode, ${ctx.repeats} repeat(s)`);
  const rows: Row[] = [];
  const failures: string[] = [];
  for (const name of ORDER.filter((s) => args.scenarios.includes(s))) {
    const sc = SCENARIOS[name]!;
    if (sc === 'n/a') {
      rows.push({ scenario: name, case: '2 instances', metric: '–', ours: null, baseline: null, ratio: null, goal: 'p99 ≤ single + 25 ms', pass: null, info: 'n/a (scale-out not built)' });
      continue;
    }
    if (name === 'soak' && args.quick) {
      rows.push({ scenario: name, case: '–', metric: '–', ours: null, baseline: null, ratio: null, goal: 'RSS, sockets ≤ 10% growth', pass: null, info: 'skipped (--quick)' });
      continue;
    }
    const t0 = Date.now();
    ctx.log(`${name} …`);
    try {
      const r = await sc(ctx);
      ctx.results.set(name, r);
      rows.push(...r);
      ctx.log(`${name} done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      failures.push(`${name}: ${msg}`);
      console.error(`\n!!! ${name} FAILED: ${msg}\n`);
      rows.push({ scenario: name, case: '–', metric: '–', ours: null, baseline: null, ratio: null, goal: '–', pass: false, info: `FAILED: ${msg.slice(0, 200)}` });
    }
  }
  await clients.stop();
  const seconds = (Date.now() - started) / 1000;
  console.log(`\n${markdownTable(rows)}\n`);
  console.log(`${args.quick ? 'quick' : 'full'} run: ${seconds.toFixed(0)} s`);
  if (args.json) {
    writeFileSync(args.json, JSON.stringify({ date: new Date().toISOString(), machine, mode: args.quick ? 'quick' : 'full', repeats: ctx.repeats, seconds, rows, failures }, null, 2));
    console.log(`wrote ${args.json}`);
  }
  if (failures.length) {
    console.error(`FAILED: ${failures.join('\n')}`);
    process.exitCode = 1;
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});

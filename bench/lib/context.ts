import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ClientPool } from './proc';
import { TMP } from './proc';
import type { Row } from './stats';

export interface Ctx {
  quick: boolean;
  /** Repeats per measurement (3 full, 1 or 2 quick). */
  repeats: number;
  clients: ClientPool;
  /** Run our server under `node --cpu-prof`, profiles into this directory. */
  cpuProfDir: string | null;
  /** Results of scenarios already run in this invocation (sdk-e2e compares with fanout). */
  results: Map<string, Row[]>;
  log(msg: string): void;
}

export type Scenario = (ctx: Ctx) => Promise<Row[]>;

let dbs = 0;
/** A fresh SQLite path under bench-out/tmp (old files of that name removed). */
export function freshDb(name: string): string {
  const p = join(TMP, `${name}-${process.pid}-${++dbs}.db`);
  for (const s of ['', '-wal', '-shm']) rmSync(p + s, { force: true });
  return p;
}

/** Loud failure: a scenario never reports a number for a wrong answer. */
export function check(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Error(`VERIFICATION FAILED: ${msg}`);
}

export const uid = () => Math.random().toString(36).slice(2, 10);

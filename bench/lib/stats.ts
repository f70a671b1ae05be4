/** Medians, percentiles and the result rows of the bench table. */

export function median(xs: readonly number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** p in [0, 100], nearest-rank on a sorted copy. */
export function percentile(xs: ArrayLike<number>, p: number): number {
  const s = Float64Array.from(xs as ArrayLike<number>).sort();
  if (s.length === 0) return NaN;
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i]!;
}

export interface Row {
  scenario: string;
  /** e.g. "1 socket, 100k frames". */
  case: string;
  metric: string;
  ours: number | null;
  baseline: number | null;
  /** ours / baseline (median of the per-repeat ratios), or a difference for latency rows. */
  ratio: number | null;
  /** How the ratio is shown: "×" ratio, or "+ms" difference. */
  ratioKind?: 'x' | 'diff';
  goal: string;
  pass: boolean | null;
  /** CPU, RSS, characters/s… (information, not goals). */
  info: string;
  /** Decimals of ours/baseline (default: 1 for ms and KiB, else 0). */
  digits?: number;
  /** Why a goal is missed / what was scaled. */
  note?: string;
  runs?: unknown[];
}

export const fmtNum = (x: number | null | undefined, digits = 0): string => {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  if (Math.abs(x) >= 1e6) return `${(x / 1e6).toFixed(2)}M`;
  if (Math.abs(x) >= 1e4) return `${(x / 1e3).toFixed(1)}k`;
  return x.toFixed(digits);
};
export const fmtMiB = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
export const fmtRatio = (r: Row) =>
  r.ratio === null || !Number.isFinite(r.ratio) ? '–' : r.ratioKind === 'diff' ? `${r.ratio >= 0 ? '+' : ''}${r.ratio.toFixed(1)} ms` : `${r.ratio.toFixed(2)}×`;
export const fmtPass = (r: Row) => (r.pass === null ? 'info' : r.pass ? 'pass' : 'MISS');

/** The table as Markdown (the README's and the console's). */
export function markdownTable(rows: readonly Row[]): string {
  const head = '| scenario | case | metric | ours | baseline | ratio | goal | result | info |\n|---|---|---|---:|---:|---:|---|---|---|';
  const digits = (r: Row) => r.digits ?? (r.metric.includes('ms') || r.metric.includes('KiB') ? 1 : 0);
  const lines = rows.map((r) =>
    `| \`${r.scenario}\` | ${r.case} | ${r.metric} | ${typeof r.ours === 'number' ? fmtNum(r.ours, digits(r)) : '–'} | ${typeof r.baseline === 'number' ? fmtNum(r.baseline, digits(r)) : '–'} | ${fmtRatio(r)} | ${r.goal} | ${fmtPass(r)} | ${r.info} |`,
  );
  return [head, ...lines].join('\n');
}

import type { Middleware } from '../middleware';
import type { Block, Turn } from '../turn';
import { publishLog } from './log-event';

/** Estimates the tokens a list of blocks costs the provider. */
export type TokenEstimator = (blocks: readonly Block[]) => number;

export interface HistoryTrimOptions {
  /** Budget for the blocks sent to the provider (positive). */
  maxTokens: number;
  /** Defaults to {@link estimateTokens}. */
  estimateTokens?: TokenEstimator;
}

function json(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  try {
    return JSON.stringify(v) ?? '';
  } catch {
    return String(v);
  }
}

/** Characters of one block that reach the provider: its text, or the JSON of args / result / error. */
export function blockChars(b: Block): number {
  switch (b.kind) {
    case 'system':
    case 'user':
    case 'llm_text':
    case 'reasoning':
      return b.text.length;
    case 'tool_call':
      return b.name.length + json(b.args).length;
    case 'tool_use':
      return json(b.result).length + (b.error ?? '').length;
    case 'other':
      return json(b.data).length;
  }
}

/** Default estimator: `Math.ceil(chars / 4)` over every block. */
export function estimateTokens(blocks: readonly Block[]): number {
  let chars = 0;
  for (const b of blocks) chars += blockChars(b);
  return Math.ceil(chars / 4);
}

export interface TrimResult {
  /** What the provider should see: system blocks + the kept history. */
  kept: Block[];
  /** The history blocks left out (never system blocks), in order. */
  dropped: Block[];
  /** Estimate of `kept`. */
  estimatedTokens: number;
  /** Estimate of the input. */
  originalTokens: number;
}

/**
 * Drops the oldest whole exchanges (a `user` block and everything up to the next `user` block;
 * blocks before the first user block form an exchange of their own) until the estimate fits
 * `maxTokens`. System blocks and the latest exchange are always kept; a cut never separates a
 * `tool_call` from its `tool_use` (exchanges linked by a tool pair go together). When nothing
 * can fit, as much as allowed is dropped (the estimate is then still over budget).
 */
export function trimHistory(blocks: readonly Block[], maxTokens: number, estimate: TokenEstimator = estimateTokens): TrimResult {
  const originalTokens = estimate(blocks);
  const untouched: TrimResult = { kept: [...blocks], dropped: [], estimatedTokens: originalTokens, originalTokens };
  if (originalTokens <= maxTokens) return untouched;

  // exchange index of every block (system blocks belong to none)
  const exchangeOf: number[] = [];
  const starts: number[] = []; // block index where each exchange starts
  let ex = -1;
  blocks.forEach((b, i) => {
    if (b.kind === 'user' || (ex < 0 && b.kind !== 'system')) {
      ex++;
      starts.push(i);
    }
    exchangeOf.push(b.kind === 'system' ? -1 : ex);
  });
  const lastEx = ex;
  if (lastEx < 1) return untouched;

  // a cut before exchange k is invalid when a tool pair spans it
  const invalid = new Set<number>();
  const callEx = new Map<string, number>();
  blocks.forEach((b, i) => { if (b.kind === 'tool_call' && !callEx.has(b.id)) callEx.set(b.id, exchangeOf[i]!); });
  blocks.forEach((b, i) => {
    if (b.kind !== 'tool_use') return;
    const c = callEx.get(b.id);
    if (c === undefined) return;
    const lo = Math.min(c, exchangeOf[i]!);
    const hi = Math.max(c, exchangeOf[i]!);
    for (let k = lo + 1; k <= hi; k++) invalid.add(k);
  });

  const cut = (k: number): TrimResult => {
    const from = starts[k]!;
    const kept = blocks.filter((b, i) => i >= from || b.kind === 'system');
    const dropped = blocks.filter((b, i) => i < from && b.kind !== 'system');
    return { kept, dropped, estimatedTokens: estimate(kept), originalTokens };
  };
  let best: TrimResult | null = null;
  for (let k = 1; k <= lastEx; k++) {
    if (invalid.has(k)) continue;
    best = cut(k);
    if (best.estimatedTokens <= maxTokens) return best;
  }
  return best ?? untouched;
}

/**
 * Puts the dropped history back into the turn `next` returned: right before the first kept
 * history block (found by id), else after the leading system blocks. The engine only appends, so
 * the result is the full history plus the new blocks.
 */
export function reattachDropped(result: Turn, dropped: readonly Block[], anchor: Pick<Block, 'id' | 'kind'> | null): Turn {
  if (dropped.length === 0) return result;
  let at = anchor === null ? -1 : result.blocks.findIndex((b) => b.id === anchor.id && b.kind === anchor.kind);
  if (at < 0) {
    at = 0;
    while (at < result.blocks.length && result.blocks[at]!.kind === 'system') at++;
  }
  return { ...result, blocks: [...result.blocks.slice(0, at), ...dropped, ...result.blocks.slice(at)] };
}

/**
 * Keeps what the provider sees within `maxTokens` (see {@link trimHistory}) and publishes an
 * `info` log event `{droppedBlocks, estimatedTokens, …}` when it trimmed (a `warn` when the turn
 * is over budget and nothing could be dropped). Trimming only affects the provider request: the
 * returned turn holds the full history.
 */
export function historyTrimMiddleware(options: HistoryTrimOptions): Middleware {
  const { maxTokens } = options;
  if (!Number.isFinite(maxTokens) || maxTokens <= 0) throw new RangeError(`history-trim: maxTokens must be a positive number, got ${maxTokens}`);
  const estimate = options.estimateTokens ?? estimateTokens;
  return (next) => async (turn, opts) => {
    const r = trimHistory(turn.blocks, maxTokens, estimate);
    if (r.dropped.length === 0) {
      if (r.originalTokens > maxTokens) {
        publishLog(opts, 'warn', 'history-trim: over the token budget and nothing can be dropped', {
          droppedBlocks: 0, estimatedTokens: r.originalTokens, maxTokens,
        });
      }
      return next(turn, opts);
    }
    publishLog(opts, 'info', `history-trim: dropped ${r.dropped.length} block(s) of old history`, {
      droppedBlocks: r.dropped.length,
      estimatedTokens: r.estimatedTokens,
      originalTokens: r.originalTokens,
      maxTokens,
      overBudget: r.estimatedTokens > maxTokens,
    });
    const anchor = r.kept.find((b) => b.kind !== 'system') ?? null;
    const result = await next({ ...turn, blocks: r.kept }, opts);
    return reattachDropped(result, r.dropped, anchor);
  };
}

import type { Middleware } from '../middleware';
import type { Block, Turn } from '../turn';

/**
 * For every run of consecutive `tool_call` blocks, moves the `tool_use` blocks answering them
 * (same `id`) from later positions to directly after the run, in the run's call order; every
 * other block keeps its relative order. A `tool_use` placed *before* its call stays where it is
 * (the block-order normalizer handles that). Never adds or removes blocks.
 */
export function reorderToolResults(blocks: readonly Block[]): Block[] {
  const out: Block[] = [];
  const taken = new Set<number>();
  const n = blocks.length;
  let i = 0;
  while (i < n) {
    if (taken.has(i)) { i++; continue; }
    const b = blocks[i]!;
    if (b.kind !== 'tool_call') { out.push(b); i++; continue; }
    let j = i;
    while (j < n && blocks[j]!.kind === 'tool_call') out.push(blocks[j++]!);
    for (let c = i; c < j; c++) {
      const callId = blocks[c]!.id;
      for (let k = j; k < n; k++) {
        const u = blocks[k]!;
        if (!taken.has(k) && u.kind === 'tool_use' && u.id === callId) {
          out.push(u);
          taken.add(k);
        }
      }
    }
    i = j;
  }
  return out;
}

/** Applies {@link reorderToolResults} to the turn; the same turn object when the order is already right. */
export function reorderTurnToolResults(turn: Turn): Turn {
  const out = reorderToolResults(turn.blocks);
  return sameOrder(out, turn.blocks) ? turn : { ...turn, blocks: out };
}

function sameOrder(a: readonly Block[], b: readonly Block[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Puts every `tool_use` right after its `tool_call` run before the provider sees the turn, and
 * again on the returned turn (a no-op for the engine's appended blocks, so the stored order stays sane).
 */
export function toolResultReorderMiddleware(): Middleware {
  return (next) => async (turn, opts) => reorderTurnToolResults(await next(reorderTurnToolResults(turn), opts));
}

import type { Middleware } from '../middleware';
import type { Block, ToolCallBlock, ToolUseBlock, Turn } from '../turn';
import { publishLog } from './log-event';

/** A block the normalizer removed, and why. */
export interface DroppedBlock {
  index: number;
  id: string;
  kind: Block['kind'];
  /** `orphan_tool_use`: no tool_call has its id; `duplicate_tool_use`: the call already has an answer. */
  reason: 'orphan_tool_use' | 'duplicate_tool_use';
}

export interface NormalizedBlocks {
  blocks: Block[];
  dropped: DroppedBlock[];
}

/**
 * Orders blocks the way every provider accepts them:
 * 1. every `system` block first, in their order;
 * 2. then the history in order;
 * 3. each `tool_use` directly after the run of consecutive `tool_call` blocks holding its call
 *    (answers in call order), wherever it was (also when it came before its call).
 *
 * Runs are the consecutive `tool_call` blocks of the input (any other block, a `tool_use`
 * included, ends a run), so separate assistant steps are never merged. A `tool_use` whose id no
 * `tool_call` has (an orphan) is dropped, as is a second answer to the same call: providers
 * reject both. Unanswered calls are left as they are.
 */
export function normalizeBlockOrder(input: readonly Block[]): NormalizedBlocks {
  const callIds = new Set<string>();
  for (const b of input) if (b.kind === 'tool_call') callIds.add(b.id);

  const answers = new Map<string, ToolUseBlock>();
  const dropped: DroppedBlock[] = [];
  input.forEach((b, index) => {
    if (b.kind !== 'tool_use') return;
    if (!callIds.has(b.id)) dropped.push({ index, id: b.id, kind: b.kind, reason: 'orphan_tool_use' });
    else if (answers.has(b.id)) dropped.push({ index, id: b.id, kind: b.kind, reason: 'duplicate_tool_use' });
    else answers.set(b.id, b);
  });

  const system = input.filter((b) => b.kind === 'system');
  const history: Block[] = [];
  let run: ToolCallBlock[] = [];
  const flushRun = (): void => {
    for (const call of run) {
      const answer = answers.get(call.id);
      if (answer) {
        history.push(answer);
        answers.delete(call.id); // a call id repeated in the history gets its answer once
      }
    }
    run = [];
  };
  for (const b of input) {
    if (b.kind === 'tool_call') {
      history.push(b);
      run.push(b);
      continue;
    }
    flushRun();
    if (b.kind === 'system' || b.kind === 'tool_use') continue;
    history.push(b);
  }
  flushRun();
  return { blocks: [...system, ...history], dropped };
}

function sameOrder(a: readonly Block[], b: readonly Block[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Applies {@link normalizeBlockOrder}; the same turn object when nothing changed. */
export function normalizeTurnBlockOrder(turn: Turn): { turn: Turn; dropped: DroppedBlock[] } {
  const { blocks, dropped } = normalizeBlockOrder(turn.blocks);
  return { turn: sameOrder(blocks, turn.blocks) ? turn : { ...turn, blocks }, dropped };
}

/**
 * Normalizes the block order before the provider call (see {@link normalizeBlockOrder}) and
 * publishes a `warn` log event listing what it dropped. The dropped blocks stay out of the
 * returned turn too: they would make every later request fail.
 */
export function blockOrderNormalizerMiddleware(): Middleware {
  return (next) => (turn, opts) => {
    const { turn: normalized, dropped } = normalizeTurnBlockOrder(turn);
    if (dropped.length > 0) {
      publishLog(opts, 'warn', `block-order-normalizer: dropped ${dropped.length} tool_use block(s) without a matching tool_call`, {
        droppedBlocks: dropped.length,
        dropped: dropped.map(({ id, reason, index }) => ({ id, reason, index })),
      });
    }
    return next(normalized, opts);
  };
}

import type { Middleware } from '../middleware';
import { blocks as mk, type Block, type Turn } from '../turn';

/** Meta tag of blocks the system-prompt middleware inserted or rewrote (Geppetto `geppetto.middleware@v1`). */
export const SYSTEM_PROMPT_TAG = 'systemprompt';

/**
 * Puts `prompt` into the turn: replaces the text of the first `system` block (tagging it
 * `meta.middleware = 'systemprompt'` only when the text changed) or inserts a tagged system block
 * at index 0. An empty (or whitespace-only) prompt leaves the turn alone. Idempotent; returns the
 * same turn object when nothing changed.
 */
export function applySystemPrompt(turn: Turn, prompt: string): Turn {
  if (prompt.trim() === '') return turn;
  const idx = turn.blocks.findIndex((b) => b.kind === 'system');
  if (idx < 0) {
    return { ...turn, blocks: [mk.system(prompt, { middleware: SYSTEM_PROMPT_TAG }), ...turn.blocks] };
  }
  const current = turn.blocks[idx]!;
  if (current.kind !== 'system' || current.text === prompt) return turn;
  const replaced: Block = { ...current, text: prompt, meta: { ...current.meta, middleware: SYSTEM_PROMPT_TAG } };
  const out = [...turn.blocks];
  out[idx] = replaced;
  return { ...turn, blocks: out };
}

/** Sets the system prompt of every call (see {@link applySystemPrompt}). */
export function systemPromptMiddleware(prompt: string): Middleware {
  return (next) => (turn, opts) => next(applySystemPrompt(turn, prompt), opts);
}

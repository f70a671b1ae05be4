import type { Middleware } from '../middleware';
import type { Block, Turn } from '../turn';

/**
 * Tool-call markup models write as text instead of using the tools API. Each pattern requires
 * what follows the opening marker to look like a call (JSON, or a nested tag), so prose that
 * merely mentions a tag survives. Unclosed markup at the very end (output cut off) is removed too.
 */
export const TOOL_CALL_NOISE_PATTERNS: readonly RegExp[] = [
  // Hermes / Qwen: <tool_call>{"name": …}</tool_call>, <tool_call><function=…>…</function></tool_call>
  /<(tool_calls?|function_calls?)>\s*[{[<][\s\S]*?<\/\1>/g,
  // the same, cut off before the closing tag
  /<(?:tool_calls?|function_calls?)>\s*[{[<][\s\S]*$/g,
  // Llama 3.1 / Qwen3-coder: <function=name>…</function>
  /<function=[\w.:-]+>[\s\S]*?<\/function>/g,
  /<function=[\w.:-]+>[\s\S]*$/g,
  // fenced: ```tool_call … ```
  /```[ \t]*(?:tool_calls?|tool_code|function_calls?)[ \t]*\r?\n[\s\S]*?(?:```|$)/g,
  // special-token styles: <|tool_call_start|>…<|tool_call_end|>, <|tool_calls_section_begin|>…<|tool_calls_section_end|>
  /<\|tool_calls?(?:_section)?_(?:start|begin)\|>[\s\S]*?(?:<\|tool_calls?(?:_section)?_end\|>|$)/g,
];

/**
 * Removes tool-call markup from `text` (see {@link TOOL_CALL_NOISE_PATTERNS}) and tidies the
 * whitespace the removal left (runs of blank lines, trailing space). Returns `text` unchanged
 * when nothing matched.
 */
export function stripToolCallNoise(text: string, patterns: readonly RegExp[] = TOOL_CALL_NOISE_PATTERNS): string {
  let out = text;
  for (const p of patterns) out = out.replace(new RegExp(p.source, p.flags.includes('g') ? p.flags : `${p.flags}g`), '');
  if (out === text) return text;
  return out.replace(/[ \t]+\n/g, '\n').replace(/\n{3,}/g, '\n\n').trim();
}

/**
 * Strips tool-call markup from the `llm_text` blocks of `result` that are not in `input` (by
 * block id); text blocks left empty are removed. Older blocks are never touched.
 */
export function stripToolCallNoiseFromNewBlocks(input: Turn, result: Turn, patterns?: readonly RegExp[]): Turn {
  const known = new Set(input.blocks.map((b) => b.id));
  let changed = false;
  const out: Block[] = [];
  for (const b of result.blocks) {
    if (b.kind !== 'llm_text' || known.has(b.id)) { out.push(b); continue; }
    const text = stripToolCallNoise(b.text, patterns);
    if (text === b.text) { out.push(b); continue; }
    changed = true;
    if (text.trim() !== '') out.push({ ...b, text, meta: { ...b.meta, toolCallNoiseStripped: true } });
  }
  return changed ? { ...result, blocks: out } : result;
}

/**
 * After the inner call, cleans tool-call markup the model wrote as prose out of the new text
 * blocks. The streamed deltas already went out; this cleans the stored history (and what the
 * model sees on its next call).
 */
export function toolCallNoiseMiddleware(patterns?: readonly RegExp[]): Middleware {
  return (next) => async (turn, opts) => stripToolCallNoiseFromNewBlocks(turn, await next(turn, opts), patterns);
}

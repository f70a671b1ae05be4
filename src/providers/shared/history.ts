import type { ReasoningBlock, ToolCallBlock, ToolUseBlock, Turn } from '../../inference/turn';

/**
 * A provider-neutral view of a Turn, which each engine maps to its own request format:
 * the system text, then the history as user / assistant / tool-result items in order.
 */
export interface Conversation {
  /** All `system` blocks, joined by a blank line; null when there is none. */
  system: string | null;
  items: HistoryItem[];
}

export type HistoryItem = UserItem | AssistantItem | ToolResultsItem;

/** Consecutive `user` blocks, merged. */
export interface UserItem { role: 'user'; text: string }

/** Consecutive `llm_text` / `reasoning` / `tool_call` blocks: one assistant message, parts in order. */
export interface AssistantItem { role: 'assistant'; parts: AssistantPart[] }
export type AssistantPart =
  | { kind: 'text'; text: string; meta: Record<string, unknown> }
  | { kind: 'reasoning'; block: ReasoningBlock }
  | { kind: 'tool_call'; call: ToolCallBlock; callId: string };

/** Consecutive `tool_use` blocks: the answers, each with the id the provider knows the call by. */
export interface ToolResultsItem { role: 'tool'; results: ToolResult[] }
export interface ToolResult {
  /** The id sent to the provider: the call's `providerCallId ?? id` (see `providerCallIds`). */
  callId: string;
  /** The called tool's name (Gemini needs it); null when the call is not in the turn. */
  name: string | null;
  block: ToolUseBlock;
  /** The result as text (JSON unless it already is a string). */
  text: string;
  isError: boolean;
}

/**
 * The id each tool call is sent back to the provider with: its `providerCallId ?? id`, unless
 * an earlier call of the same history already uses that id (a provider that repeated an id):
 * then our own unique `id`, so the request never holds two calls with one id.
 */
export function providerCallIds(turn: Turn): Map<string, string> {
  const out = new Map<string, string>();
  const taken = new Set<string>();
  for (const b of turn.blocks) {
    if (b.kind !== 'tool_call') continue;
    let cid = b.providerCallId || b.id;
    if (taken.has(cid)) cid = b.id;
    taken.add(cid);
    out.set(b.id, cid);
  }
  return out;
}

export function toConversation(turn: Turn): Conversation {
  const systems: string[] = [];
  const items: HistoryItem[] = [];
  const callIds = providerCallIds(turn);
  const calls = new Map<string, ToolCallBlock>();
  for (const b of turn.blocks) if (b.kind === 'tool_call') calls.set(b.id, b);

  const last = () => items[items.length - 1];
  const assistant = (): AssistantItem => {
    const l = last();
    if (l && l.role === 'assistant') return l;
    const item: AssistantItem = { role: 'assistant', parts: [] };
    items.push(item);
    return item;
  };

  for (const b of turn.blocks) {
    switch (b.kind) {
      case 'system':
        if (b.text) systems.push(b.text);
        break;
      case 'user': {
        const l = last();
        if (l && l.role === 'user') l.text = `${l.text}\n\n${b.text}`;
        else items.push({ role: 'user', text: b.text });
        break;
      }
      case 'llm_text':
        if (b.text) assistant().parts.push({ kind: 'text', text: b.text, meta: b.meta ?? {} });
        break;
      case 'reasoning':
        assistant().parts.push({ kind: 'reasoning', block: b });
        break;
      case 'tool_call':
        assistant().parts.push({ kind: 'tool_call', call: b, callId: callIds.get(b.id) ?? b.id });
        break;
      case 'tool_use': {
        const call = calls.get(b.id);
        const { text, isError } = toolResultText(b);
        const result: ToolResult = { callId: callIds.get(b.id) ?? b.id, name: call?.name ?? null, block: b, text, isError };
        const l = last();
        if (l && l.role === 'tool') l.results.push(result);
        else items.push({ role: 'tool', results: [result] });
        break;
      }
      case 'other':
        break;
    }
  }
  // An assistant message made only of reasoning that no provider takes back is dropped by the
  // engines; drop empty ones here.
  return { system: systems.length ? systems.join('\n\n') : null, items: items.filter((i) => i.role !== 'assistant' || i.parts.length > 0) };
}

/** A tool result as the text a model reads: the value (JSON unless a string), or an error object. */
export function toolResultText(b: ToolUseBlock): { text: string; isError: boolean } {
  if (b.status === 'completed' && !b.error) {
    return { text: typeof b.result === 'string' ? b.result : JSON.stringify(b.result ?? null), isError: false };
  }
  const body: Record<string, unknown> = { status: b.status, error: b.error ?? b.status };
  if (b.result !== null && b.result !== undefined) body.result = b.result;
  return { text: JSON.stringify(body), isError: true };
}

/** A tool result as a JSON object (Gemini's `functionResponse.response` must be an object). */
export function toolResultObject(r: ToolResult): Record<string, unknown> {
  if (!r.isError) return { output: r.block.result ?? null };
  return { error: r.block.error ?? r.block.status, status: r.block.status };
}

/** Tool call arguments as the JSON text a provider expects back (`{_raw}` = what it sent, unparsed). */
export function toolArgsJson(args: unknown): string {
  const raw = rawArgs(args);
  if (raw !== null) return raw;
  return JSON.stringify(args ?? {});
}

/** Tool call arguments as an object (Anthropic `input`, Gemini `args`). */
export function toolArgsObject(args: unknown): Record<string, unknown> {
  if (args && typeof args === 'object' && !Array.isArray(args)) return args as Record<string, unknown>;
  return { value: args ?? null };
}

function rawArgs(args: unknown): string | null {
  if (args && typeof args === 'object' && !Array.isArray(args)) {
    const keys = Object.keys(args);
    const raw = (args as { _raw?: unknown })._raw;
    if (keys.length === 1 && typeof raw === 'string') return raw;
  }
  return null;
}

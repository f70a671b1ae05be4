import { randomUUID } from 'node:crypto';
import type { RunStatus, ToolStatus, Usage } from '../protocol/frames';

/** Block kinds of a Turn (Geppetto `turns.BlockKind`). */
export type BlockKind = 'system' | 'user' | 'llm_text' | 'reasoning' | 'tool_call' | 'tool_use' | 'other';

export interface SystemBlock { kind: 'system'; id: string; text: string; meta?: BlockMeta }
export interface UserBlock { kind: 'user'; id: string; text: string; meta?: BlockMeta }
export interface LlmTextBlock { kind: 'llm_text'; id: string; text: string; meta?: BlockMeta }
export interface ReasoningBlock { kind: 'reasoning'; id: string; text: string; encryptedContent?: string | null; meta?: BlockMeta }
/** A tool call the model made. `id` is unique in the conversation; `providerCallId` is what the provider called it. */
export interface ToolCallBlock {
  kind: 'tool_call';
  id: string;
  name: string;
  args: unknown;
  providerCallId: string | null;
  meta?: BlockMeta;
}
/** The answer to a tool call (`id` = the tool call's id). */
export interface ToolUseBlock {
  kind: 'tool_use';
  id: string;
  result: unknown;
  error: string | null;
  status: ToolStatus;
  truncated?: boolean;
  meta?: BlockMeta;
}
export interface OtherBlock { kind: 'other'; id: string; data: unknown; meta?: BlockMeta }

export type Block = SystemBlock | UserBlock | LlmTextBlock | ReasoningBlock | ToolCallBlock | ToolUseBlock | OtherBlock;

/** Free-form block metadata (e.g. `middleware: "systemprompt"` for blocks a middleware inserted). */
export type BlockMeta = Record<string, unknown>;

export interface TurnMetadata {
  sessionId?: string;
  inferenceId?: string;
  status?: RunStatus;
  usage?: Usage;
  stopReason?: string | null;
  model?: string | null;
  [key: string]: unknown;
}

export interface Turn {
  id: string;
  blocks: Block[];
  metadata: TurnMetadata;
  data: Record<string, unknown>;
}

export function newTurn(blocks: Block[] = [], id: string = randomUUID()): Turn {
  return { id, blocks, metadata: {}, data: {} };
}

/** Copies the turn: a new blocks array and new metadata/data objects (blocks are immutable values). */
export function cloneTurn(t: Turn): Turn {
  return { id: t.id, blocks: [...t.blocks], metadata: { ...t.metadata }, data: { ...t.data } };
}

export function withBlocks(t: Turn, blocks: Block[]): Turn {
  return { ...t, blocks };
}

export function appendBlocks(t: Turn, ...blocks: Block[]): Turn {
  return { ...t, blocks: [...t.blocks, ...blocks] };
}

export const blocks = {
  system: (text: string, meta?: BlockMeta): SystemBlock => ({ kind: 'system', id: randomUUID(), text, ...(meta ? { meta } : {}) }),
  user: (text: string, id: string = randomUUID()): UserBlock => ({ kind: 'user', id, text }),
  llmText: (text: string, id: string = randomUUID()): LlmTextBlock => ({ kind: 'llm_text', id, text }),
  reasoning: (text: string, id: string = randomUUID()): ReasoningBlock => ({ kind: 'reasoning', id, text }),
  toolCall: (id: string, name: string, args: unknown, providerCallId: string | null = null): ToolCallBlock => ({
    kind: 'tool_call', id, name, args, providerCallId,
  }),
  toolUse: (id: string, status: ToolStatus, result: unknown, error: string | null, truncated = false): ToolUseBlock => ({
    kind: 'tool_use', id, result, error, status, ...(truncated ? { truncated } : {}),
  }),
};

/** Tool calls in the turn that have no `tool_use` answer yet, in order. */
export function pendingToolCalls(t: Turn): ToolCallBlock[] {
  const answered = new Set<string>();
  for (const b of t.blocks) if (b.kind === 'tool_use') answered.add(b.id);
  return t.blocks.filter((b): b is ToolCallBlock => b.kind === 'tool_call' && !answered.has(b.id));
}

/** Every tool call id used in the turn (for conversation-wide uniqueness). */
export function toolCallIds(t: Turn): Set<string> {
  const ids = new Set<string>();
  for (const b of t.blocks) if (b.kind === 'tool_call') ids.add(b.id);
  return ids;
}

/** The text of the last user block, or "" when there is none. */
export function lastUserText(t: Turn): string {
  for (let i = t.blocks.length - 1; i >= 0; i--) {
    const b = t.blocks[i]!;
    if (b.kind === 'user') return b.text;
  }
  return '';
}

/**
 * Repairs a turn that ended early (cancel, error, interrupt): every tool_call without a
 * tool_use gets one with `status` (default `cancelled`), so the next prompt's history is valid
 * for every provider and no stopped tool ever re-runs. Sets `metadata.status`.
 */
export function repairPartialTurn(t: Turn, status: RunStatus, toolStatus: ToolStatus = 'cancelled'): Turn {
  const pending = pendingToolCalls(t);
  const added = pending.map((c) => blocks.toolUse(c.id, toolStatus, null, `tool call ${toolStatus}: the run ended (${status})`));
  // Answers go right after their calls so the history stays adjacent for strict providers.
  let out = t.blocks;
  if (added.length > 0) {
    out = [];
    const byId = new Map(added.map((a) => [a.id, a]));
    let lastCallIdx = -1;
    t.blocks.forEach((b, i) => { if (b.kind === 'tool_call' && byId.has(b.id)) lastCallIdx = i; });
    t.blocks.forEach((b, i) => {
      out.push(b);
      if (i === lastCallIdx) {
        // after the run of the last pending call, emit answers for every pending call whose
        // call appears at or before this point and which has no answer yet
        for (const a of added) out.push(a);
      }
    });
  }
  return { ...t, blocks: out, metadata: { ...t.metadata, status } };
}

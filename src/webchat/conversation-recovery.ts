import { blocks, cloneTurn, repairPartialTurn, type Turn } from '../inference/turn';
import { entityIds } from '../protocol/ids';
import type { Conversation } from './conversation';
import type { RunRow } from './store/store';

/**
 * Start-up closing of a run that has no `run.end` in the store (the process died): every open
 * message gets `llm.final` with the text so far, every open tool call `tool.result cancelled` +
 * `tool.done`, every open pause `debugger.resume aborted`, then `run.end interrupted` (reason
 * `shutdown`) — all through the log's compare-and-set. The run's turn is repaired so the next
 * prompt's history is valid and contains the earlier prompts.
 */
export function closeInterruptedRun(c: Conversation, run: RunRow): void {
  const log = c.log;
  const inferenceId = run.inferenceId;
  const snap = log.projection.snapshot(c.convId, log.epoch);
  const partialTexts: { id: string; text: string }[] = [];
  for (const e of snap.entities) {
    const p = e.props as Record<string, unknown>;
    if (e.kind === 'message' && p.streaming === true) {
      if (p.role === 'thinking') {
        log.append({ type: 'llm.thinking.final', id: e.id, metadata: null, inferenceId, data: { id: e.id, text: String(p.content ?? '') } });
      } else {
        log.append({ type: 'llm.final', id: e.id, metadata: null, inferenceId, data: { id: e.id, text: String(p.content ?? '') } });
        if (p.turnId === run.turnId && p.content) partialTexts.push({ id: e.id, text: String(p.content) });
      }
    } else if (e.kind === 'tool_call' && p.done !== true) {
      if (p.status === 'running') {
        log.append({ type: 'tool.result', id: e.id, metadata: null, inferenceId, data: { id: e.id, status: 'cancelled', result: null, error: 'tool call cancelled: the server stopped', durationMs: null, truncated: false, customKind: null } });
      }
      log.append({ type: 'tool.done', id: e.id, metadata: null, inferenceId, data: { id: e.id } });
    }
  }
  for (const p of snap.conversation.openPauses) {
    log.append({ type: 'debugger.resume', id: p.pauseId, metadata: null, inferenceId, data: { pauseId: p.pauseId, resolution: 'aborted', effect: 'abort', toolCallIds: [], by: 'startup' } });
  }
  log.append({ type: 'run.end', id: inferenceId, metadata: null, inferenceId, data: { inferenceId, turnId: run.turnId, status: 'interrupted', reason: 'shutdown', error: null, usage: null } });
  repairTurn(c, run, partialTexts);
}

function repairTurn(c: Conversation, run: RunRow, partialTexts: { id: string; text: string }[]): void {
  const turns = c.session.turns;
  let idx = turns.findIndex((t) => t.id === run.turnId);
  if (idx < 0) {
    // the process died before the turn was saved: rebuild it from the accepted prompt
    const msg = c.log.projection.snapshotEntity(entityIds.userMessage(run.turnId));
    const prev = turns[turns.length - 1];
    const base: Turn = prev ? cloneTurn(prev) : { id: run.turnId, blocks: [], metadata: {}, data: {} };
    const t: Turn = { ...base, id: run.turnId, metadata: { sessionId: c.convId, inferenceId: run.inferenceId } };
    if (msg) t.blocks.push(blocks.user(String((msg.props as { content?: unknown }).content ?? '')));
    turns.push(t);
    idx = turns.length - 1;
  }
  let t = turns[idx]!;
  const have = new Set(t.blocks.map((b) => b.id));
  const extra = partialTexts.filter((p) => !have.has(p.id)).map((p) => blocks.llmText(p.text, p.id));
  if (extra.length) t = { ...t, blocks: [...t.blocks, ...extra] };
  t = repairPartialTurn(t, 'interrupted');
  t = { ...t, metadata: { ...t.metadata, inferenceId: run.inferenceId } };
  turns[idx] = t;
  void c.saveSnapshot('final', t, run.inferenceId);
}

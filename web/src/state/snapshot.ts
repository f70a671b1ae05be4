import type { TimelineSnapshot } from '../protocol';
import type { ChatState, Entity, PendingTool } from './types';

/**
 * A held call as the `debugger.pause` frame listed it, rebuilt from its `tool_call` entity (the
 * snapshot's open pauses carry only ids; `tool.start` precedes the pause, so the entity exists).
 */
function pendingTool(e: Entity | undefined, id: string): PendingTool {
  const name = e?.kind === 'tool_call' && typeof e.props.name === 'string' ? e.props.name : '';
  return { id, name, input: e?.kind === 'tool_call' ? e.props.input ?? null : null };
}

/** The state of a hydration snapshot (`GET /api/timeline`), exact up to `snapshot.version`. */
export function fromSnapshot(snapshot: TimelineSnapshot): ChatState {
  const sorted = [...snapshot.entities].sort((a, b) => a.firstSeq - b.firstSeq || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const entities: Record<string, Entity> = {};
  for (const e of sorted) {
    entities[e.id] = { id: e.id, kind: e.kind, firstSeq: e.firstSeq, version: e.version, createdAtMs: e.createdAtMs, updatedAtMs: e.updatedAtMs, props: { ...e.props } };
  }
  const c = snapshot.conversation;
  return {
    convId: snapshot.convId,
    epoch: snapshot.epoch,
    version: snapshot.version,
    entities,
    order: sorted.map((e) => e.id),
    running: c.running ? { ...c.running } : null,
    queue: c.queue.map((q) => ({ ...q })),
    openPauses: c.openPauses.map((p) => ({ ...p, toolCallIds: [...p.toolCallIds], pendingTools: p.toolCallIds.map((id) => pendingTool(entities[id], id)) })),
    stepMode: c.stepMode,
    currentTurnId: c.running?.turnId ?? null,
  };
}

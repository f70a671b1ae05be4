import type { TimelineSnapshot } from '../protocol';
import type { ChatState, Entity } from './types';

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
    openPauses: c.openPauses.map((p) => ({ ...p, toolCallIds: [...p.toolCallIds] })),
    stepMode: c.stepMode,
    currentTurnId: c.running?.turnId ?? null,
  };
}

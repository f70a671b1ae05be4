import type { AnyFrameEvent, PausePhase } from '../protocol/frames';
import { entityIds } from '../protocol/ids';
import type { EntityKind, TimelineEntity, TimelineSnapshot } from '../protocol/timeline';
import type { EntityRow } from './store/store';

export interface ConversationView {
  stepMode: boolean;
  running: { inferenceId: string; turnId: string; startedAtMs: number } | null;
  queue: { turnId: string; idempotencyKey: string | null; prompt: string; position: number }[];
  openPauses: { pauseId: string; phase: PausePhase; deadlineMs: number; toolCallIds: string[] }[];
}

/** The conversation-level state is persisted as one pseudo-entity beside the timeline entities. */
const CONVERSATION_ENTITY = '__conversation__';

/**
 * The timeline projection of one conversation: applied in seq order to every committed frame
 * (D1), so the state is exact at `version`. Dirty entities are handed to the committer in
 * batches together with the cursor; loading replays the log from that cursor.
 */
export class TimelineProjection {
  private readonly entities = new Map<string, TimelineEntity>();
  private readonly dirty = new Set<string>();
  private view: ConversationView = { stepMode: false, running: null, queue: [], openPauses: [] };
  private viewDirty = false;
  private currentTurnId: string | null = null;
  version = 0;
  persistedVersion = 0;

  static fromRows(cursor: number, rows: EntityRow[]): TimelineProjection {
    const p = new TimelineProjection();
    const sorted = [...rows].sort((a, b) => a.firstSeq - b.firstSeq);
    for (const r of sorted) {
      if (r.id === CONVERSATION_ENTITY) {
        const v = r.props as ConversationView & { currentTurnId?: string | null };
        p.view = { stepMode: v.stepMode, running: v.running, queue: v.queue, openPauses: v.openPauses };
        p.currentTurnId = v.currentTurnId ?? null;
        continue;
      }
      p.entities.set(r.id, { id: r.id, kind: r.kind as EntityKind, firstSeq: r.firstSeq, version: r.version, createdAtMs: r.createdAtMs, updatedAtMs: r.updatedAtMs, props: r.props as Record<string, unknown> });
    }
    p.version = cursor;
    p.persistedVersion = cursor;
    return p;
  }

  snapshotEntity(id: string): TimelineEntity | undefined {
    return this.entities.get(id);
  }

  get conversation(): ConversationView {
    return this.view;
  }

  snapshot(convId: string, epoch: string): TimelineSnapshot {
    return {
      convId,
      epoch,
      version: this.version,
      serverTimeMs: Date.now(),
      conversation: structuredClone(this.view),
      entities: [...this.entities.values()].map((e) => ({ ...e, props: { ...e.props } })),
    };
  }

  private upsert(id: string, kind: EntityKind, seq: number, atMs: number, patch: Record<string, unknown>, init: Record<string, unknown> = {}): void {
    let e = this.entities.get(id);
    if (!e) {
      e = { id, kind, firstSeq: seq, version: seq, createdAtMs: atMs, updatedAtMs: atMs, props: { ...init, ...patch } };
      this.entities.set(id, e);
    } else {
      Object.assign(e.props, patch);
      e.version = seq;
      e.updatedAtMs = atMs;
    }
    this.dirty.add(id);
  }

  private touchView(): void {
    this.viewDirty = true;
  }

  /** Applies one committed frame. Frames must come in seq order; older ones are ignored. */
  apply(ev: AnyFrameEvent, atMs: number): void {
    const seq = ev.seq ?? 0;
    if (seq <= this.version) return;
    this.version = seq;
    switch (ev.type) {
      case 'chat.message':
        this.upsert(ev.id, 'message', seq, atMs, { role: 'user', content: ev.data.content, streaming: false, turnId: ev.data.turnId });
        break;
      case 'llm.start':
        this.upsert(ev.id, 'message', seq, atMs, { streaming: true }, { role: 'assistant', content: '', turnId: this.currentTurnId });
        break;
      case 'llm.delta': {
        const e = this.entities.get(ev.id);
        const content = ((e?.props.content as string | undefined) ?? '') + ev.data.delta;
        this.upsert(ev.id, 'message', seq, atMs, { content, streaming: true }, { role: 'assistant', turnId: this.currentTurnId });
        break;
      }
      case 'llm.final':
        this.upsert(ev.id, 'message', seq, atMs, { content: ev.data.text, streaming: false }, { role: 'assistant', turnId: this.currentTurnId });
        break;
      case 'llm.thinking.start':
        this.upsert(ev.id, 'message', seq, atMs, { streaming: true }, { role: 'thinking', content: '', turnId: this.currentTurnId });
        break;
      case 'llm.thinking.delta': {
        const e = this.entities.get(ev.id);
        const content = ((e?.props.content as string | undefined) ?? '') + ev.data.delta;
        this.upsert(ev.id, 'message', seq, atMs, { content, streaming: true }, { role: 'thinking', turnId: this.currentTurnId });
        break;
      }
      case 'llm.thinking.final':
        this.upsert(ev.id, 'message', seq, atMs, { content: ev.data.text, streaming: false }, { role: 'thinking', turnId: this.currentTurnId });
        break;
      case 'tool.start':
        this.upsert(ev.id, 'tool_call', seq, atMs, { name: ev.data.name, input: ev.data.input, status: 'running', done: false });
        break;
      case 'tool.delta':
        this.upsert(ev.id, 'tool_call', seq, atMs, {}, { name: '', input: ev.data.patch.input, status: 'running', done: false });
        break;
      case 'tool.result':
        this.upsert(ev.id, 'tool_call', seq, atMs, { status: ev.data.status }, { name: '', input: null, done: false });
        this.upsert(entityIds.toolResult(ev.id), 'tool_result', seq, atMs, { toolCallId: ev.id, result: ev.data.result, error: ev.data.error, status: ev.data.status, durationMs: ev.data.durationMs });
        break;
      case 'tool.done':
        this.upsert(ev.id, 'tool_call', seq, atMs, { done: true }, { name: '', input: null, status: 'completed' });
        break;
      case 'debugger.pause':
        this.upsert(ev.id, 'pause', seq, atMs, { pauseId: ev.data.pauseId, phase: ev.data.phase, summary: ev.data.summary, deadlineMs: ev.data.deadlineMs, resolution: null });
        this.view.openPauses.push({ pauseId: ev.data.pauseId, phase: ev.data.phase, deadlineMs: ev.data.deadlineMs, toolCallIds: ev.data.extra.pendingTools.map((t) => t.id) });
        this.touchView();
        break;
      case 'debugger.resume':
        this.upsert(ev.id, 'pause', seq, atMs, { resolution: ev.data.resolution });
        this.view.openPauses = this.view.openPauses.filter((p) => p.pauseId !== ev.data.pauseId);
        this.touchView();
        break;
      case 'run.start':
        this.currentTurnId = ev.data.turnId;
        this.upsert(ev.id, 'run', seq, atMs, { inferenceId: ev.data.inferenceId, status: 'running', reason: null, error: null, usage: null });
        this.view.running = { inferenceId: ev.data.inferenceId, turnId: ev.data.turnId, startedAtMs: atMs };
        this.touchView();
        break;
      case 'run.end':
        this.upsert(ev.id, 'run', seq, atMs, { inferenceId: ev.data.inferenceId, status: ev.data.status, reason: ev.data.reason, error: ev.data.error, usage: ev.data.usage });
        if (this.view.running?.inferenceId === ev.data.inferenceId) this.view.running = null;
        this.touchView();
        break;
      case 'log':
        this.upsert(ev.id, 'log', seq, atMs, { level: ev.data.level, message: ev.data.message });
        break;
      case 'run.queued': {
        const q = this.view.queue.filter((x) => x.turnId !== ev.data.turnId);
        if (ev.data.status === 'queued') q.push({ turnId: ev.data.turnId, idempotencyKey: ev.data.idempotencyKey, prompt: ev.data.prompt, position: 0 });
        q.forEach((x, i) => (x.position = i + 1));
        this.view.queue = q;
        this.touchView();
        break;
      }
      case 'step.mode':
        this.view.stepMode = ev.data.enabled;
        this.touchView();
        break;
      default:
        break;
    }
  }

  /** True when `takeDirty` has something to hand over. */
  get hasDirty(): boolean {
    return this.dirty.size > 0 || this.viewDirty || this.persistedVersion !== this.version;
  }

  /** Entities changed since the last call (and the conversation view), for the committer. */
  takeDirty(atMs: number): { cursor: number; upserts: EntityRow[] } | null {
    if (this.dirty.size === 0 && !this.viewDirty && this.persistedVersion === this.version) return null;
    const upserts: EntityRow[] = [];
    for (const id of this.dirty) {
      const e = this.entities.get(id);
      if (e) upserts.push({ id: e.id, kind: e.kind, firstSeq: e.firstSeq, version: e.version, createdAtMs: e.createdAtMs, updatedAtMs: e.updatedAtMs, props: structuredClone(e.props) });
    }
    if (this.viewDirty) {
      upserts.push({ id: CONVERSATION_ENTITY, kind: 'conversation', firstSeq: 0, version: this.version, createdAtMs: atMs, updatedAtMs: atMs, props: { ...structuredClone(this.view), currentTurnId: this.currentTurnId } });
    }
    this.dirty.clear();
    this.viewDirty = false;
    this.persistedVersion = this.version;
    return { cursor: this.version, upserts };
  }

  /** Marks everything dirty again (a failed commit lost the upserts). */
  markAllDirty(): void {
    for (const id of this.entities.keys()) this.dirty.add(id);
    this.viewDirty = true;
    this.persistedVersion = -1;
  }
}

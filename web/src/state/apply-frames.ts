import { entityIds, type AnyFrameEvent } from '../protocol';
import type { ChatState, Entity, OpenPause, QueueEntry, RunningInfo } from './types';

/**
 * Applies log frames to the state — pure: the input state is never mutated, unchanged entities
 * keep their identity (so React re-renders only what changed). The rules are those of the
 * server's timeline projection, so live state equals hydrated state (`/api/timeline`).
 *
 * Frames must come in seq order; a frame with `seq <= state.version` is ignored (already
 * applied). The caller detects gaps (`seq > version + 1`) before applying: see `seqCheck`.
 * Control frames (`seq: null`) and unknown types change nothing but the version.
 */
export function applyFrames(state: ChatState, events: readonly AnyFrameEvent[], nowMs: number = Date.now()): ChatState {
  let d: Draft | null = null;
  for (const ev of events) {
    if (ev.seq === null || ev.seq <= (d?.version ?? state.version)) continue;
    d ??= new Draft(state);
    d.apply(ev, ev.seq, nowMs);
  }
  return d ? d.finish() : state;
}

export const applyFrame = (state: ChatState, ev: AnyFrameEvent, nowMs?: number): ChatState => applyFrames(state, [ev], nowMs);

/** What to do with a log frame of this seq: apply it, drop it (seen), or re-sync (a gap). */
export function seqCheck(lastSeq: number, seq: number): 'apply' | 'duplicate' | 'gap' {
  if (seq <= lastSeq) return 'duplicate';
  return seq === lastSeq + 1 ? 'apply' : 'gap';
}

type Props = Record<string, unknown>;

class Draft {
  version: number;
  private readonly entities: Record<string, Entity>;
  private order: string[] | null = null;
  private readonly own = new Set<string>();
  private running: RunningInfo | null;
  private queue: readonly QueueEntry[];
  private openPauses: readonly OpenPause[];
  private stepMode: boolean;
  private currentTurnId: string | null;

  constructor(private readonly base: ChatState) {
    this.version = base.version;
    this.entities = { ...base.entities };
    this.running = base.running;
    this.queue = base.queue;
    this.openPauses = base.openPauses;
    this.stepMode = base.stepMode;
    this.currentTurnId = base.currentTurnId;
  }

  finish(): ChatState {
    return {
      ...this.base,
      version: this.version,
      entities: this.entities,
      order: this.order ?? this.base.order,
      running: this.running,
      queue: this.queue,
      openPauses: this.openPauses,
      stepMode: this.stepMode,
      currentTurnId: this.currentTurnId,
    };
  }

  private get(id: string): Entity | undefined {
    return this.entities[id];
  }

  /** Creates the entity (`init` then `patch`) or merges `patch` into its props. */
  private upsert(id: string, kind: string, seq: number, nowMs: number, patch: Props, init: Props = {}): void {
    const e = this.entities[id];
    if (!e) {
      this.entities[id] = { id, kind, firstSeq: seq, version: seq, createdAtMs: nowMs, updatedAtMs: nowMs, props: { ...init, ...patch } };
      this.own.add(id);
      (this.order ??= [...this.base.order]).push(id);
      return;
    }
    if (this.own.has(id)) {
      Object.assign(e.props as Props, patch);
      (e as { version: number }).version = seq;
      (e as { updatedAtMs: number }).updatedAtMs = nowMs;
      return;
    }
    this.entities[id] = { ...e, version: seq, updatedAtMs: nowMs, props: { ...e.props, ...patch } };
    this.own.add(id);
  }

  private text(id: string): string {
    const c = this.get(id)?.props.content;
    return typeof c === 'string' ? c : '';
  }

  apply(ev: AnyFrameEvent, seq: number, now: number): void {
    this.version = seq;
    const turnId = this.currentTurnId;
    switch (ev.type) {
      case 'chat.message':
        this.upsert(ev.id, 'message', seq, now, { role: 'user', content: ev.data.content, streaming: false, turnId: ev.data.turnId });
        break;
      case 'llm.start':
        this.upsert(ev.id, 'message', seq, now, { streaming: true }, { role: 'assistant', content: '', turnId });
        break;
      case 'llm.delta':
        this.upsert(ev.id, 'message', seq, now, { content: this.text(ev.id) + ev.data.delta, streaming: true }, { role: 'assistant', turnId });
        break;
      case 'llm.final':
        this.upsert(ev.id, 'message', seq, now, { content: ev.data.text, streaming: false }, { role: 'assistant', turnId });
        break;
      case 'llm.thinking.start':
        this.upsert(ev.id, 'message', seq, now, { streaming: true }, { role: 'thinking', content: '', turnId });
        break;
      case 'llm.thinking.delta':
        this.upsert(ev.id, 'message', seq, now, { content: this.text(ev.id) + ev.data.delta, streaming: true }, { role: 'thinking', turnId });
        break;
      case 'llm.thinking.final':
        this.upsert(ev.id, 'message', seq, now, { content: ev.data.text, streaming: false }, { role: 'thinking', turnId });
        break;
      case 'tool.start':
        this.upsert(ev.id, 'tool_call', seq, now, { name: ev.data.name, input: ev.data.input, status: 'running', done: false });
        break;
      case 'tool.delta':
        this.upsert(ev.id, 'tool_call', seq, now, {}, { name: '', input: ev.data.patch.input, status: 'running', done: false });
        break;
      case 'tool.result':
        this.upsert(ev.id, 'tool_call', seq, now, { status: ev.data.status }, { name: '', input: null, done: false });
        this.upsert(entityIds.toolResult(ev.id), 'tool_result', seq, now, {
          toolCallId: ev.id,
          result: ev.data.result,
          error: ev.data.error,
          status: ev.data.status,
          durationMs: ev.data.durationMs,
        });
        break;
      case 'tool.done':
        this.upsert(ev.id, 'tool_call', seq, now, { done: true }, { name: '', input: null, status: 'completed' });
        break;
      case 'debugger.pause':
        this.upsert(ev.id, 'pause', seq, now, {
          pauseId: ev.data.pauseId,
          phase: ev.data.phase,
          summary: ev.data.summary,
          deadlineMs: ev.data.deadlineMs,
          resolution: null,
        });
        this.openPauses = [
          ...this.openPauses,
          {
            pauseId: ev.data.pauseId,
            phase: ev.data.phase,
            deadlineMs: ev.data.deadlineMs,
            toolCallIds: ev.data.extra.pendingTools.map((t) => t.id),
            pendingTools: ev.data.extra.pendingTools.map((t) => ({ id: t.id, name: t.name, input: t.input ?? null })),
          },
        ];
        break;
      case 'debugger.resume':
        this.upsert(ev.id, 'pause', seq, now, { resolution: ev.data.resolution });
        this.openPauses = this.openPauses.filter((p) => p.pauseId !== ev.data.pauseId);
        break;
      case 'run.start':
        this.currentTurnId = ev.data.turnId;
        this.upsert(ev.id, 'run', seq, now, { inferenceId: ev.data.inferenceId, status: 'running', reason: null, error: null });
        this.running = { inferenceId: ev.data.inferenceId, turnId: ev.data.turnId, startedAtMs: now };
        break;
      case 'run.end':
        this.upsert(ev.id, 'run', seq, now, { inferenceId: ev.data.inferenceId, status: ev.data.status, reason: ev.data.reason, error: ev.data.error });
        if (this.running?.inferenceId === ev.data.inferenceId) this.running = null;
        break;
      case 'log':
        this.upsert(ev.id, 'log', seq, now, { level: ev.data.level, message: ev.data.message });
        break;
      case 'run.queued': {
        const rest = this.queue.filter((q) => q.turnId !== ev.data.turnId);
        const next: QueueEntry[] = rest.map((q) => ({ ...q }));
        if (ev.data.status === 'queued') {
          next.push({ turnId: ev.data.turnId, idempotencyKey: ev.data.idempotencyKey, prompt: ev.data.prompt, position: 0 });
        }
        this.queue = next.map((q, i) => ({ ...q, position: i + 1 }));
        break;
      }
      case 'step.mode':
        this.stepMode = ev.data.enabled;
        break;
      default:
        break; // control frames, agent.mode, types this UI does not know
    }
  }
}

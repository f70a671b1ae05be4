/**
 * An independent reducer of protocol.md's hydration state, written from the spec for the
 * tests: a snapshot (`/api/timeline`) plus the frames after its `version` must reduce to the
 * same state as a fresh snapshot at the end. Server-clock fields (`createdAtMs`,
 * `updatedAtMs`, `running.startedAtMs`, `serverTimeMs`) are not derivable from frames and are
 * left out of the comparison.
 */

export interface ReducedEntity {
  id: string;
  kind: string;
  firstSeq: number;
  version: number;
  props: Record<string, unknown>;
}

export interface ReducedState {
  version: number;
  conversation: {
    stepMode: boolean;
    running: { inferenceId: string; turnId: string } | null;
    queue: { turnId: string; idempotencyKey: string | null; prompt: string; position: number }[];
    openPauses: { pauseId: string; phase: string; deadlineMs: number; toolCallIds: string[] }[];
  };
  entities: ReducedEntity[];
}

/** The comparable part of a `/api/timeline` snapshot. */
export function fromSnapshot(s: any): ReducedState {
  const c = s.conversation;
  return {
    version: s.version,
    conversation: {
      stepMode: c.stepMode,
      running: c.running ? { inferenceId: c.running.inferenceId, turnId: c.running.turnId } : null,
      queue: c.queue.map((q: any) => ({ turnId: q.turnId, idempotencyKey: q.idempotencyKey, prompt: q.prompt, position: q.position })),
      openPauses: c.openPauses.map((p: any) => ({ pauseId: p.pauseId, phase: p.phase, deadlineMs: p.deadlineMs, toolCallIds: [...p.toolCallIds] })),
    },
    entities: s.entities.map((e: any) => ({ id: e.id, kind: e.kind, firstSeq: e.firstSeq, version: e.version, props: structuredClone(e.props) })),
  };
}

export const emptyState = (): ReducedState => ({
  version: 0,
  conversation: { stepMode: false, running: null, queue: [], openPauses: [] },
  entities: [],
});

/** Applies frame events (`envelope.event`) in seq order; returns a new state. */
export function reduce(start: ReducedState, events: readonly any[]): ReducedState {
  const st: ReducedState = structuredClone(start);
  const byId = new Map(st.entities.map((e) => [e.id, e]));
  // the turn of the run in progress (assistant messages belong to it)
  let turnId: string | null = st.conversation.running?.turnId ?? null;
  if (!turnId) {
    const lastUser = [...st.entities].reverse().find((e) => e.kind === 'message' && e.props.role === 'user');
    turnId = (lastUser?.props.turnId as string | undefined) ?? null;
  }
  const upsert = (id: string, kind: string, seq: number, patch: Record<string, unknown>, init: Record<string, unknown> = {}) => {
    let e = byId.get(id);
    if (!e) {
      e = { id, kind, firstSeq: seq, version: seq, props: { ...init, ...patch } };
      byId.set(id, e);
      st.entities.push(e);
    } else {
      Object.assign(e.props, patch);
      e.version = seq;
    }
  };
  for (const ev of events) {
    const seq: number = ev.seq;
    if (seq <= st.version) throw new Error(`frame ${seq} at or below version ${st.version}: a duplicate`);
    if (seq !== st.version + 1) throw new Error(`gap: frame ${seq} after version ${st.version}`);
    st.version = seq;
    const d = ev.data;
    const text = (id: string) => String(byId.get(id)?.props.content ?? '');
    switch (ev.type) {
      case 'chat.message':
        upsert(ev.id, 'message', seq, { role: 'user', content: d.content, streaming: false, turnId: d.turnId });
        break;
      case 'llm.start':
      case 'llm.thinking.start':
        upsert(ev.id, 'message', seq, { streaming: true }, { role: d.role, content: '', turnId });
        break;
      case 'llm.delta':
      case 'llm.thinking.delta':
        upsert(ev.id, 'message', seq, { content: text(ev.id) + d.delta, streaming: true }, { role: ev.type === 'llm.delta' ? 'assistant' : 'thinking', turnId });
        break;
      case 'llm.final':
      case 'llm.thinking.final':
        upsert(ev.id, 'message', seq, { content: d.text, streaming: false }, { role: ev.type === 'llm.final' ? 'assistant' : 'thinking', turnId });
        break;
      case 'tool.start':
        upsert(ev.id, 'tool_call', seq, { name: d.name, input: d.input, status: 'running', done: false });
        break;
      case 'tool.delta':
        upsert(ev.id, 'tool_call', seq, {}, { name: '', input: d.patch.input, status: 'running', done: false });
        break;
      case 'tool.result':
        upsert(ev.id, 'tool_call', seq, { status: d.status }, { name: '', input: null, done: false });
        upsert(`${ev.id}:result`, 'tool_result', seq, { toolCallId: ev.id, result: d.result, error: d.error, status: d.status, durationMs: d.durationMs });
        break;
      case 'tool.done':
        upsert(ev.id, 'tool_call', seq, { done: true }, { name: '', input: null, status: 'completed' });
        break;
      case 'debugger.pause':
        upsert(ev.id, 'pause', seq, { pauseId: d.pauseId, phase: d.phase, summary: d.summary, deadlineMs: d.deadlineMs, resolution: null });
        st.conversation.openPauses.push({ pauseId: d.pauseId, phase: d.phase, deadlineMs: d.deadlineMs, toolCallIds: d.extra.pendingTools.map((t: any) => t.id) });
        break;
      case 'debugger.resume':
        upsert(ev.id, 'pause', seq, { resolution: d.resolution });
        st.conversation.openPauses = st.conversation.openPauses.filter((p) => p.pauseId !== d.pauseId);
        break;
      case 'run.start':
        turnId = d.turnId;
        upsert(ev.id, 'run', seq, { inferenceId: d.inferenceId, status: 'running', reason: null, error: null, usage: null });
        st.conversation.running = { inferenceId: d.inferenceId, turnId: d.turnId };
        break;
      case 'run.end':
        upsert(ev.id, 'run', seq, { inferenceId: d.inferenceId, status: d.status, reason: d.reason, error: d.error, usage: d.usage });
        if (st.conversation.running?.inferenceId === d.inferenceId) st.conversation.running = null;
        break;
      case 'log':
        upsert(ev.id, 'log', seq, { level: d.level, message: d.message });
        break;
      case 'run.queued': {
        const q = st.conversation.queue.filter((x) => x.turnId !== d.turnId);
        if (d.status === 'queued') q.push({ turnId: d.turnId, idempotencyKey: d.idempotencyKey, prompt: d.prompt, position: 0 });
        q.forEach((x, i) => (x.position = i + 1));
        st.conversation.queue = q;
        break;
      }
      case 'step.mode':
        st.conversation.stepMode = d.enabled;
        break;
      default:
        break;
    }
  }
  return st;
}

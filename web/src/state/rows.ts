import type { PausePhase, RunError, ToolStatus } from '../protocol';
import type { ChatState, Entity, OpenPause, PendingTool } from './types';

/**
 * What the transcript shows, derived from the state (pure). Tool results render inside their
 * tool call's card; a run's end (stopped, error, interrupted) renders after that run's output;
 * empty assistant messages of tool-only steps are not shown.
 */
export type Row =
  | { type: 'user'; id: string; content: string }
  | { type: 'assistant'; id: string; content: string; streaming: boolean }
  | { type: 'thinking'; id: string; content: string; streaming: boolean }
  | {
      type: 'tool';
      id: string;
      name: string;
      input: unknown;
      status: ToolStatus | 'running';
      result: unknown;
      error: string | null;
      /** From `tool.result` live; after hydration estimated from the entity times. */
      durationMs: number | null;
      durationExact: boolean;
      /** Not started yet: an open pause holds it (step mode or approval). */
      waiting: boolean;
    }
  | {
      type: 'pause';
      id: string;
      pauseId: string;
      phase: PausePhase;
      summary: string;
      deadlineMs: number;
      resolution: string | null;
      /** Still waiting for an operator (listed in the conversation's open pauses). */
      open: boolean;
      /** The calls it holds while open (none at `after_tools`; none once resolved). */
      pending: readonly PendingTool[];
    }
  | { type: 'run-end'; id: string; status: string; reason: string | null; error: RunError | null }
  | { type: 'log'; id: string; level: string; message: string };

const str = (v: unknown, def = ''): string => (typeof v === 'string' ? v : def);
const strOrNull = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const TOOL_STATUSES = new Set(['running', 'completed', 'error', 'denied', 'cancelled', 'timeout']);
const PHASES = new Set(['after_inference', 'after_tools', 'approval']);

function runError(v: unknown): RunError | null {
  if (!v || typeof v !== 'object') return null;
  const o = v as Record<string, unknown>;
  return typeof o.message === 'string' ? ({ code: str(o.code, 'internal'), message: o.message } as RunError) : null;
}

function toolRow(e: Entity, result: Entity | undefined, held: boolean): Row {
  const p = e.props;
  const rp = result?.props;
  const status = str(p.status, 'running');
  let durationMs: number | null = null;
  let durationExact = false;
  if (rp && typeof rp.durationMs === 'number') {
    durationMs = rp.durationMs;
    durationExact = true;
  } else if (result) {
    durationMs = Math.max(0, result.createdAtMs - e.createdAtMs);
  }
  return {
    type: 'tool',
    id: e.id,
    name: str(p.name),
    input: p.input ?? null,
    status: (TOOL_STATUSES.has(status) ? status : 'running') as ToolStatus | 'running',
    result: rp ? rp.result ?? null : null,
    error: rp ? strOrNull(rp.error) : null,
    durationMs,
    durationExact,
    waiting: held && status === 'running',
  };
}

export function buildRows(state: ChatState): Row[] {
  let rows: Row[] = [];
  let runEnd: Extract<Row, { type: 'run-end' }> | null = null;
  let runStart = 0;
  const flush = () => {
    if (runEnd) {
      // The run's error is shown once, in its notice (its `log` twin is dropped).
      const msg = runEnd.error?.message;
      if (msg) rows = rows.filter((r, i) => i < runStart || !(r.type === 'log' && r.message === msg));
      rows.push(runEnd);
    }
    runEnd = null;
  };
  const held = new Set(state.openPauses.flatMap((p) => p.toolCallIds));
  const openById = new Map<string, OpenPause>(state.openPauses.map((p) => [p.pauseId, p]));
  for (const id of state.order) {
    const e = state.entities[id];
    if (!e) continue;
    const p = e.props;
    switch (e.kind) {
      case 'message': {
        const role = str(p.role);
        const content = str(p.content);
        const streaming = p.streaming === true;
        if (role === 'user') {
          flush();
          rows.push({ type: 'user', id, content });
        } else if (role === 'assistant' || role === 'thinking') {
          if (content === '' && !streaming) break;
          rows.push({ type: role, id, content, streaming });
        }
        break;
      }
      case 'tool_call':
        rows.push(toolRow(e, state.entities[`${id}:result`], held.has(id)));
        break;
      case 'pause': {
        const phase = str(p.phase);
        const pauseId = str(p.pauseId, id);
        const open = openById.get(pauseId);
        rows.push({
          type: 'pause',
          id,
          pauseId,
          phase: (PHASES.has(phase) ? phase : 'after_inference') as PausePhase,
          summary: str(p.summary),
          deadlineMs: typeof p.deadlineMs === 'number' ? p.deadlineMs : 0,
          resolution: strOrNull(p.resolution),
          open: open !== undefined,
          pending: open?.pendingTools ?? [],
        });
        break;
      }
      case 'run': {
        flush();
        runStart = rows.length;
        const status = str(p.status, 'running');
        if (status !== 'running' && status !== 'completed') {
          runEnd = { type: 'run-end', id, status, reason: strOrNull(p.reason), error: runError(p.error) };
        }
        break;
      }
      case 'log': {
        const level = str(p.level, 'info');
        if (level !== 'debug') rows.push({ type: 'log', id, level, message: str(p.message) });
        break;
      }
      default:
        break; // tool_result renders inside its tool card; unknown kinds are not shown
    }
  }
  flush();
  return rows;
}

/** The streaming assistant/thinking message of the active run, if any (for the typing hint). */
export function isStreaming(rows: readonly Row[]): boolean {
  const last = rows[rows.length - 1];
  return !!last && (last.type === 'assistant' || last.type === 'thinking') && last.streaming;
}

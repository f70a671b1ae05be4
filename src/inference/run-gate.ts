import type { RunEndReason, RunError, RunStatus, ToolStatus, Usage } from '../protocol/frames';
import type { EventSink } from './event-sinks';
import { createEvent, type EventMeta, type InferenceEvent, type RunIdentity } from './events';

interface OpenMessage { messageId: string; text: string; thinking: string; thinkingOpen: boolean; model: string | null }
interface ToolCallInfo { id: string; name: string; input: unknown; providerCallId: string | null }

/**
 * The one door a run's events go through. It forwards events to the downstream sinks while the
 * run is open, tracks what is open (messages, tool calls, pauses) and, when the run closes,
 * publishes the closing events and exactly one `run-end`. After that every event of the run is
 * dropped (the fence): a tool that ignores its signal can never publish anything afterwards.
 */
export class RunGate implements EventSink {
  private closed = false;
  private readonly openMessages = new Map<string, OpenMessage>();
  private readonly openTools = new Map<string, ToolCallInfo>();
  private readonly openPauses = new Map<string, EventMeta>();
  /** Messages and tool calls of the current engine step not yet in the run's turn. */
  private unsettledMessages = new Map<string, OpenMessage>();
  private unsettledTools: ToolCallInfo[] = [];
  private readonly usage: Usage = { inputTokens: 0, outputTokens: 0, cachedTokens: 0 };
  private sawUsage = false;

  constructor(private readonly downstream: readonly EventSink[], readonly identity: RunIdentity) {}

  get isClosed(): boolean {
    return this.closed;
  }

  publish(e: InferenceEvent): void {
    if (this.closed) return;
    this.track(e);
    this.forward(e);
  }

  private forward(e: InferenceEvent): void {
    for (const s of this.downstream) {
      try {
        s.publish(e);
      } catch {
        /* sinks must not break the run */
      }
    }
  }

  private track(e: InferenceEvent): void {
    switch (e.type) {
      case 'start': {
        const m: OpenMessage = { messageId: e.meta.messageId ?? '', text: '', thinking: '', thinkingOpen: false, model: e.meta.model ?? null };
        this.openMessages.set(m.messageId, m);
        this.unsettledMessages.set(m.messageId, m);
        break;
      }
      case 'partial': {
        const m = this.message(e.meta);
        m.text += e.delta;
        break;
      }
      case 'thinking-start':
        this.message(e.meta).thinkingOpen = true;
        break;
      case 'partial-thinking':
        this.message(e.meta).thinking += e.delta;
        break;
      case 'thinking-final':
        this.message(e.meta).thinkingOpen = false;
        break;
      case 'final':
      case 'interrupt': {
        const id = e.meta.messageId ?? '';
        const m = this.openMessages.get(id);
        if (m) m.text = e.text;
        this.openMessages.delete(id);
        if (e.type === 'final' && e.meta.usage) this.addUsage(e.meta.usage);
        break;
      }
      case 'tool-call':
        this.openTools.set(e.toolCall.id, { ...e.toolCall });
        this.unsettledTools.push({ ...e.toolCall });
        break;
      case 'tool-call-done':
        this.openTools.delete(e.toolCallId);
        break;
      case 'debugger-pause':
        this.openPauses.set(e.pauseId, e.meta);
        break;
      case 'debugger-resume':
        this.openPauses.delete(e.pauseId);
        break;
      default:
        break;
    }
  }

  private message(meta: EventMeta): OpenMessage {
    const id = meta.messageId ?? '';
    let m = this.openMessages.get(id);
    if (!m) {
      // thinking may come before any text: the entity exists from its first event
      m = { messageId: id, text: '', thinking: '', thinkingOpen: false, model: meta.model ?? null };
      this.openMessages.set(id, m);
      this.unsettledMessages.set(id, m);
    }
    return m;
  }

  private addUsage(u: Usage): void {
    this.sawUsage = true;
    this.usage.inputTokens += u.inputTokens;
    this.usage.outputTokens += u.outputTokens;
    this.usage.cachedTokens += u.cachedTokens;
  }

  /** The engine step returned: its messages and tool calls are in the turn now. */
  settleStep(): void {
    this.unsettledMessages = new Map();
    this.unsettledTools = [];
  }

  /** What the current engine step produced that the turn does not contain yet (for repair). */
  unsettled(): { messages: { messageId: string; text: string; thinking: string }[]; toolCalls: ToolCallInfo[] } {
    return {
      messages: [...this.unsettledMessages.values()].map((m) => ({ messageId: m.messageId, text: m.text, thinking: m.thinking })),
      toolCalls: [...this.unsettledTools],
    };
  }

  totalUsage(): Usage | null {
    return this.sawUsage ? { ...this.usage } : null;
  }

  /**
   * Closes the run: closes every open message (`final` with the text so far), every open tool
   * call (`tool-call-execution-result` + `tool-call-done`), every open pause (`debugger-resume`
   * aborted), then publishes `run-end`. Returns null when the run was closed already.
   */
  close(status: RunStatus, reason: RunEndReason, error: RunError | null, toolStatus: ToolStatus = 'cancelled'): Extract<InferenceEvent, { type: 'run-end' }> | null {
    if (this.closed) return null;
    const id = this.identity;
    for (const m of this.openMessages.values()) {
      const meta = { messageId: m.messageId, model: m.model };
      if (m.thinkingOpen) this.forward(createEvent('thinking-final', id, { text: m.thinking }, meta));
      this.forward(createEvent('final', id, { text: m.text }, meta));
    }
    for (const t of this.openTools.values()) {
      this.forward(createEvent('tool-call-execution-result', id, {
        result: { id: t.id, status: toolStatus, result: null, error: `tool call ${toolStatus}: the run ended (${reason})`, durationMs: null, truncated: false, retries: 0 },
      }));
      this.forward(createEvent('tool-call-done', id, { toolCallId: t.id }));
    }
    for (const pauseId of this.openPauses.keys()) {
      this.forward(createEvent('debugger-resume', id, { pauseId, resolution: 'aborted', effect: 'abort', toolCallIds: [], by: null }));
    }
    const end = createEvent('run-end', id, { status, reason, error, usage: this.totalUsage() });
    this.forward(end);
    this.closed = true;
    this.openMessages.clear();
    this.openTools.clear();
    this.openPauses.clear();
    return end;
  }
}

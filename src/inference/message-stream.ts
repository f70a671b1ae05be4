import { randomUUID } from 'node:crypto';
import type { Usage } from '../protocol/frames';
import { makeMeta, type EventMeta, type RunIdentity } from './events';
import { publishEvent } from './event-sinks';

/**
 * What every engine uses to publish one LLM call's message, so all providers behave alike:
 * `start` lazily at the first text or tool-call chunk (a retry before content leaves no ghost
 * message), `partial` with the character offset, thinking as its own entity, tool calls, and
 * one `final` with usage and stop reason.
 */
export class MessageStream {
  readonly messageId: string = randomUUID();
  private startedAt = Date.now();
  private started = false;
  private thinkingState: 'none' | 'open' | 'closed' = 'none';
  private finished = false;
  text = '';
  thinking = '';

  constructor(private readonly run: RunIdentity, private readonly model: string | null) {}

  get hasContent(): boolean {
    return this.started || this.thinkingState !== 'none';
  }

  private meta(extra: Partial<EventMeta> = {}): EventMeta {
    return makeMeta(this.run, { messageId: this.messageId, model: this.model, ...extra });
  }

  private ensureStarted(): void {
    if (this.started) return;
    this.started = true;
    publishEvent({ type: 'start', meta: this.meta() });
  }

  delta(chunk: string): void {
    if (!chunk || this.finished) return;
    this.ensureStarted();
    publishEvent({ type: 'partial', meta: this.meta(), delta: chunk, offset: this.text.length });
    this.text += chunk;
  }

  thinkingDelta(chunk: string): void {
    if (!chunk || this.finished || this.thinkingState === 'closed') return;
    if (this.thinkingState === 'none') {
      this.thinkingState = 'open';
      publishEvent({ type: 'thinking-start', meta: this.meta() });
    }
    publishEvent({ type: 'partial-thinking', meta: this.meta(), delta: chunk, offset: this.thinking.length });
    this.thinking += chunk;
  }

  /** Closes the thinking entity (e.g. when the answer text begins). */
  endThinking(): void {
    if (this.thinkingState !== 'open') return;
    this.thinkingState = 'closed';
    publishEvent({ type: 'thinking-final', meta: this.meta(), text: this.thinking });
  }

  toolCall(call: { id: string; name: string; input: unknown; providerCallId: string | null }): void {
    if (this.finished) return;
    this.ensureStarted();
    publishEvent({ type: 'tool-call', meta: this.meta(), toolCall: call });
  }

  /** Ends the message: closes thinking and publishes `final` (only if the message started). */
  finish(info: { stopReason?: string | null; usage?: Usage | null } = {}): void {
    if (this.finished) return;
    this.endThinking();
    this.finished = true;
    if (!this.started) return;
    publishEvent({
      type: 'final',
      meta: this.meta({ stopReason: info.stopReason ?? null, usage: info.usage ?? null, durationMs: Date.now() - this.startedAt }),
      text: this.text,
    });
  }
}

/**
 * Tool call ids are unique in a conversation: a provider id that is empty or already used is
 * replaced by `call_<uuid>`; the provider's own id is kept as `providerCallId`.
 */
export class ToolCallIdAllocator {
  private readonly used: Set<string>;
  constructor(used: Iterable<string> = []) {
    this.used = new Set(used);
  }
  allocate(providerId: string | null | undefined): { id: string; providerCallId: string | null } {
    const pid = providerId ?? '';
    const id = pid && !this.used.has(pid) ? pid : `call_${randomUUID()}`;
    this.used.add(id);
    return { id, providerCallId: pid || null };
  }
}

import type { ChatState } from './types';

/**
 * Prompts this tab sent that the log does not show yet: "sending" while the POST is in flight,
 * "accepted" until its `chat.message` (started) or queue entry (queued) arrives, "failed" with
 * the server's message. They are this tab's own and never part of the shared transcript.
 */
export interface PendingPrompt {
  readonly localId: string;
  readonly convId: string;
  readonly text: string;
  readonly status: 'sending' | 'accepted' | 'failed';
  readonly turnId: string | null;
  readonly error: string | null;
}

/** True once the log shows the prompt (as a user message or in the queue). */
export function landed(p: PendingPrompt, state: ChatState): boolean {
  if (p.status !== 'accepted' || !p.turnId) return false;
  return !!state.entities[`user-${p.turnId}`] || state.queue.some((q) => q.turnId === p.turnId);
}

export function visiblePending(pending: readonly PendingPrompt[], state: ChatState): PendingPrompt[] {
  return pending.filter((p) => p.convId === state.convId && !landed(p, state));
}

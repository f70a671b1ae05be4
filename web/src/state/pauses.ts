import type { PauseAction, PausePhase } from '../protocol';

/**
 * What a pause card offers and says (pure): the actions valid for the phase (the server
 * answers 409 `invalid_action` to the others), what a timeout does, the countdown text.
 */

export function actionsFor(phase: PausePhase): PauseAction[] {
  switch (phase) {
    case 'after_inference':
      return ['continue', 'approve', 'deny', 'abort'];
    case 'approval':
      return ['approve', 'deny', 'abort'];
    case 'after_tools':
      return ['continue', 'abort'];
  }
}

/** Step pauses continue on timeout; approval pauses deny (fail closed). */
export function timeoutEffect(phase: PausePhase): 'continue' | 'deny' {
  return phase === 'approval' ? 'deny' : 'continue';
}

/** What the deadline does, for `calls` held calls. */
export function timeoutText(phase: PausePhase, calls: number): string {
  const one = calls === 1;
  if (phase === 'approval') return one ? 'then the call is denied' : 'then the calls are denied';
  if (phase === 'after_inference') return one ? 'then the call runs' : 'then the calls run';
  return 'then the run continues';
}

/** The action the card stresses: approving where there are calls to approve, else continuing. */
export function primaryAction(phase: PausePhase): PauseAction {
  return phase === 'after_tools' ? 'continue' : 'approve';
}

/** Whole seconds left before the deadline (rounded up), 0 once it passed. */
export function secondsLeft(deadlineMs: number, nowMs: number): number {
  return Math.max(0, Math.ceil((deadlineMs - nowMs) / 1000));
}

/** `42 s`, `1:05` (minutes), or `timing out…` once the deadline passed. */
export function countdownText(deadlineMs: number, nowMs: number): string {
  const s = secondsLeft(deadlineMs, nowMs);
  if (s <= 0) return 'timing out…';
  if (s < 60) return `${s} s left`;
  const m = Math.floor(s / 60);
  return `${m}:${String(s % 60).padStart(2, '0')} left`;
}

/** The resolution as the card shows it (a timeout says what it did). */
export function resolutionText(resolution: string | null, phase: PausePhase): string {
  switch (resolution) {
    case 'continued':
      return 'Continued';
    case 'approved':
      return 'Approved';
    case 'denied':
      return 'Denied';
    case 'aborted':
      return 'Aborted';
    case 'timeout':
      return timeoutEffect(phase) === 'deny' ? 'Timed out: denied' : 'Timed out: continued';
    case 'disabled':
      return 'Step mode turned off: continued';
    default:
      return 'Resolved';
  }
}

const MAX_ARGS = 400;

/** Arguments as one line of JSON (`{"expression":"2+3"}`), cut after 400 characters. */
export function compactArgs(input: unknown): { text: string; cut: boolean } {
  let s: string;
  try {
    s = JSON.stringify(input) ?? 'null';
  } catch {
    s = String(input);
  }
  return s.length > MAX_ARGS ? { text: `${s.slice(0, MAX_ARGS)}…`, cut: true } : { text: s, cut: false };
}

import { useEffect, useState } from 'react';
import { api, ApiError, describeError } from '../api/client';
import type { PauseAction } from '../protocol';
import { actionsFor, compactArgs, countdownText, primaryAction, resolutionText, secondsLeft, timeoutText } from '../state/pauses';
import type { Row } from '../state/rows';
import { serverNow } from '../transport/server-clock';

type PauseRow = Extract<Row, { type: 'pause' }>;

const PHASE_TEXT: Record<PauseRow['phase'], string> = {
  after_inference: 'Paused before running tools',
  after_tools: 'Paused after tools',
  approval: 'Approval needed',
};

const LABEL: Record<PauseAction, string> = { continue: 'Continue', approve: 'Approve', deny: 'Deny', abort: 'Abort' };

/** The current time on the server's clock, ticking twice a second while `active` (for a countdown). */
function useNow(active: boolean): number {
  const [now, setNow] = useState(() => serverNow());
  useEffect(() => {
    if (!active) return;
    setNow(serverNow());
    const t = setInterval(() => setNow(serverNow()), 500);
    return () => clearInterval(t);
  }, [active]);
  return now;
}

/**
 * A step-mode or approval pause. Open: its phase, summary, the calls it holds (name + compact
 * arguments), a countdown to the deadline with what a timeout does, and the actions valid for
 * the phase. It renders from the log, so it resolves in every tab; an action another tab or a
 * timeout beat (409 `pause_resolved`) is no error: the resolution arrives as a frame.
 * At an `approval` pause with several calls, checkboxes pick which calls Approve runs (the
 * others are denied).
 */
export function PauseCard({ row, convId }: { row: PauseRow; convId: string }) {
  const [busy, setBusy] = useState<PauseAction | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [unchecked, setUnchecked] = useState<ReadonlySet<string>>(() => new Set());
  const now = useNow(row.open);
  const selectable = row.open && row.phase === 'approval' && row.pending.length > 1;
  const selected = row.pending.filter((c) => !unchecked.has(c.id)).map((c) => c.id);
  const partial = selectable && selected.length < row.pending.length;

  const act = (action: PauseAction) => {
    setBusy(action);
    setError(null);
    const ids = partial && action === 'approve' ? selected : undefined;
    api.resolvePause(convId, row.pauseId, action, ids).then(
      // stay busy: the card turns resolved when the `debugger.resume` frame arrives
      () => undefined,
      (err: unknown) => {
        if (err instanceof ApiError && err.code === 'pause_resolved') return; // another tab or the timeout won
        setBusy(null);
        setError(describeError(err));
      },
    );
  };

  const toggle = (id: string) =>
    setUnchecked((prev) => {
      const next = new Set(prev);
      if (!next.delete(id)) next.add(id);
      return next;
    });

  const title = PHASE_TEXT[row.phase];
  const late = secondsLeft(row.deadlineMs, now) <= 0;
  return (
    <div className="row row-pause" data-testid="pause-card" data-pause-id={row.pauseId} data-phase={row.phase} data-open={row.open ? 'true' : 'false'} data-resolution={row.resolution ?? ''}>
      <section className={`pause-card ${row.open ? 'is-open' : 'is-resolved'}`} aria-label={title}>
        <div className="pause-head">
          <span className="pause-icon" aria-hidden="true">
            ‖
          </span>
          <span className="pause-title">{title}</span>
          {row.open ? (
            <span className={`pause-countdown ${late ? 'late' : ''}`} data-testid="pause-countdown" role="timer" title={`deadline ${new Date(row.deadlineMs).toLocaleTimeString()}`}>
              {countdownText(row.deadlineMs, now)} <span className="pause-timeout-effect">· {timeoutText(row.phase, row.pending.length)}</span>
            </span>
          ) : (
            <span className={`pause-resolution res-${row.resolution ?? 'none'}`} data-testid="pause-resolution">
              {resolutionText(row.resolution, row.phase)}
            </span>
          )}
        </div>
        {row.open && row.summary ? <div className="pause-summary">{row.summary}</div> : null}
        {row.open && row.pending.length > 0 ? (
          <ul className="pause-calls" data-testid="pause-pending" aria-label="Pending tool calls">
            {row.pending.map((c) => {
              const args = compactArgs(c.input);
              const body = (
                <>
                  <span className="pause-call-name" data-testid="pause-call-name">
                    {c.name || 'tool'}
                  </span>
                  <code className="pause-call-args" data-testid="pause-call-args" title={args.cut ? 'cut: the tool card shows all arguments' : undefined}>
                    {args.text}
                  </code>
                </>
              );
              return (
                <li key={c.id} className="pause-call" data-testid="pause-call" data-id={c.id}>
                  {selectable ? (
                    <label className="pause-call-pick">
                      <input type="checkbox" checked={!unchecked.has(c.id)} onChange={() => toggle(c.id)} disabled={busy !== null} data-testid="pause-call-check" aria-label={`Run ${c.name}`} />
                      {body}
                    </label>
                  ) : (
                    body
                  )}
                </li>
              );
            })}
          </ul>
        ) : null}
        {row.open ? (
          <div className="pause-actions">
            {actionsFor(row.phase).map((a) => (
              <button
                key={a}
                type="button"
                className={a === primaryAction(row.phase) ? 'btn btn-primary' : a === 'abort' ? 'btn btn-secondary btn-danger-text' : 'btn btn-secondary'}
                disabled={busy !== null || (a === 'approve' && selectable && selected.length === 0)}
                onClick={() => act(a)}
                data-testid={`pause-${a}`}
                aria-busy={busy === a}
              >
                {a === 'approve' && partial ? `Approve ${selected.length} of ${row.pending.length}` : LABEL[a]}
              </button>
            ))}
          </div>
        ) : null}
        {error ? (
          <div className="inline-error" role="alert" data-testid="pause-error">
            {error}
          </div>
        ) : null}
      </section>
    </div>
  );
}

import { useState } from 'react';
import { api, describeError } from '../api/client';
import type { PauseAction } from '../protocol';
import type { Row } from '../state/rows';

type RunEndRow = Extract<Row, { type: 'run-end' }>;
type PauseRow = Extract<Row, { type: 'pause' }>;

const REASON_TEXT: Record<string, string> = {
  user_cancel: 'Stopped',
  superseded: 'Interrupted by a newer prompt',
  deleted: 'Conversation deleted',
  shutdown: 'Interrupted: the server shut down',
  owner_lost: 'Interrupted: the server running it went away',
  pause_abort: 'Aborted at a pause',
};

/** How a run ended when it did not simply complete: stopped, interrupted, or an error. */
export function RunEndNotice({ row }: { row: RunEndRow }) {
  const isError = row.status === 'error';
  const title = isError ? 'Error' : REASON_TEXT[row.reason ?? ''] ?? (row.status === 'cancelled' ? 'Stopped' : 'Interrupted');
  return (
    <div className={`row row-notice ${isError ? 'notice-error' : 'notice-muted'}`} data-testid="run-end" data-status={row.status} data-reason={row.reason ?? ''} role={isError ? 'alert' : 'status'}>
      <span className="notice-icon" aria-hidden="true">
        {isError ? '⚠' : '■'}
      </span>
      <span className="notice-title">{title}</span>
      {row.error ? (
        <span className="notice-detail" data-testid="run-error">
          {row.error.message} <code>{row.error.code}</code>
        </span>
      ) : null}
    </div>
  );
}

const PHASE_TEXT: Record<PauseRow['phase'], string> = {
  after_inference: 'Paused before running tools',
  after_tools: 'Paused after tools',
  approval: 'Approval needed',
};

const RESOLUTION_TEXT: Record<string, string> = {
  continued: 'Continued',
  approved: 'Approved',
  denied: 'Denied',
  aborted: 'Aborted',
  timeout: 'Timed out',
  disabled: 'Step mode turned off',
};

/** A step-mode or approval pause, with its actions while it is open. */
export function PauseCard({ row, convId, open }: { row: PauseRow; convId: string; open: boolean }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const act = (action: PauseAction) => {
    setBusy(true);
    setError(null);
    api.resolvePause(convId, row.pauseId, action).then(
      () => setBusy(false),
      (err: unknown) => {
        setBusy(false);
        setError(describeError(err));
      },
    );
  };
  const actions: PauseAction[] = row.phase === 'after_tools' ? ['continue', 'abort'] : row.phase === 'approval' ? ['approve', 'deny', 'abort'] : ['continue', 'deny', 'abort'];
  return (
    <div className="row row-pause" data-testid="pause-card" data-phase={row.phase} data-open={open ? 'true' : 'false'}>
      <div className="pause-card">
        <div className="pause-title">{PHASE_TEXT[row.phase]}</div>
        {row.summary ? <div className="pause-summary">{row.summary}</div> : null}
        {open ? (
          <div className="pause-actions">
            {actions.map((a) => (
              <button key={a} type="button" className={a === 'abort' || a === 'deny' ? 'btn btn-secondary' : 'btn btn-primary'} disabled={busy} onClick={() => act(a)} data-testid={`pause-${a}`}>
                {a[0]!.toUpperCase() + a.slice(1)}
              </button>
            ))}
          </div>
        ) : (
          <div className="pause-resolution">{RESOLUTION_TEXT[row.resolution ?? ''] ?? 'Resolved'}</div>
        )}
        {error ? <div className="inline-error">{error}</div> : null}
      </div>
    </div>
  );
}

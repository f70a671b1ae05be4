import type { Row } from '../state/rows';

type RunEndRow = Extract<Row, { type: 'run-end' }>;

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

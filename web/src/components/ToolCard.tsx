import { memo } from 'react';
import type { Row } from '../state/rows';

type ToolRow = Extract<Row, { type: 'tool' }>;

const STATUS_LABEL: Record<ToolRow['status'], string> = {
  running: 'Running',
  completed: 'Completed',
  error: 'Error',
  denied: 'Denied',
  cancelled: 'Cancelled',
  timeout: 'Timed out',
};

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  return `${Math.floor(ms / 60_000)} m ${Math.round((ms % 60_000) / 1000)} s`;
}

const pretty = (v: unknown): string => {
  if (typeof v === 'string') return v;
  try {
    return JSON.stringify(v, null, 2) ?? String(v);
  } catch {
    return String(v);
  }
};

const compact = (v: unknown): string => {
  let s: string;
  try {
    s = typeof v === 'string' ? v : JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  s = s.replace(/\s+/g, ' ');
  return s.length > 48 ? `${s.slice(0, 45)}…` : s;
};

/** A one-line preview of the arguments: `(4*5)-1` for `{expression: "(4*5)-1"}`. */
const preview = (v: unknown): string => {
  let s: string;
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const vals = Object.values(v as Record<string, unknown>);
    s = vals.length === 1 && typeof vals[0] !== 'object' ? String(vals[0]) : JSON.stringify(v);
  } else s = v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}…` : s;
};

const sameRow = (a: { row: ToolRow }, b: { row: ToolRow }): boolean =>
  (Object.keys(a.row) as (keyof ToolRow)[]).every((k) => Object.is(a.row[k], b.row[k]));

/** A tool call: name, arguments, status, result or error, duration. */
export const ToolCard = memo(function ToolCard({ row }: { row: ToolRow }) {
  const done = row.status !== 'running';
  const shown = row.waiting ? 'waiting' : row.status;
  const resultText = done ? (row.error ? row.error : pretty(row.result)) : '';
  const shortResult = done ? (row.error ? row.error.split('\n')[0]! : compact(row.result)) : null;
  return (
    <div className="row row-tool">
      <details className={`tool-card status-${shown}`} data-testid="tool-card" data-id={row.id} data-status={row.status} data-waiting={row.waiting ? 'true' : 'false'}>
        <summary>
          <span className="tool-icon" aria-hidden="true">
            {row.waiting ? '‖' : row.status === 'running' ? <span className="spinner" /> : row.status === 'completed' ? '✓' : '!'}
          </span>
          <span className="tool-name" data-testid="tool-name">
            {row.name || 'tool'}
          </span>
          <code className="tool-args-preview">{preview(row.input)}</code>
          {shortResult !== null ? (
            <span className="tool-result-preview" data-testid="tool-result-preview">
              → {shortResult}
            </span>
          ) : null}
          <span className="tool-meta">
            <span className={`badge badge-${shown}`} data-testid="tool-status">
              {row.waiting ? 'Waiting' : STATUS_LABEL[row.status]}
            </span>
            {row.durationMs !== null && row.status !== 'denied' ? (
              <span className="tool-duration" data-testid="tool-duration" title={row.durationExact ? 'duration' : 'approximate duration'}>
                {row.durationExact ? '' : '≈'}
                {formatDuration(row.durationMs)}
              </span>
            ) : null}
          </span>
        </summary>
        <div className="tool-body">
          <div className="tool-section">
            <div className="tool-section-title">Arguments</div>
            <pre data-testid="tool-input">{pretty(row.input)}</pre>
          </div>
          {done ? (
            <div className="tool-section">
              <div className="tool-section-title">{row.error ? 'Error' : 'Result'}</div>
              <pre data-testid="tool-result" className={row.error ? 'tool-error' : undefined}>
                {resultText}
              </pre>
            </div>
          ) : null}
        </div>
      </details>
    </div>
  );
}, sameRow);

import { useLayoutEffect, useRef, useState, type ReactNode } from 'react';
import type { PendingPrompt } from '../state/pending';
import { isStreaming, type Row } from '../state/rows';
import type { ChatState } from '../state/types';
import { AssistantMessage, LogLine, ThinkingBlock, UserMessage } from './Messages';
import { PauseCard } from './PauseCard';
import { RunEndNotice } from './RunNotices';
import { ToolCard } from './ToolCard';

interface Props {
  state: ChatState;
  rows: Row[];
  pending: PendingPrompt[];
  onDismissPending: (localId: string) => void;
  onRetryPending: (p: PendingPrompt) => void;
  empty: ReactNode;
}

function renderRow(row: Row, state: ChatState) {
  switch (row.type) {
    case 'user':
      return <UserMessage key={row.id} id={row.id} content={row.content} />;
    case 'assistant':
      return <AssistantMessage key={row.id} id={row.id} content={row.content} streaming={row.streaming} />;
    case 'thinking':
      return <ThinkingBlock key={row.id} id={row.id} content={row.content} streaming={row.streaming} />;
    case 'tool':
      return <ToolCard key={row.id} row={row} />;
    case 'run-end':
      return <RunEndNotice key={`${row.id}:end`} row={row} />;
    case 'pause':
      return <PauseCard key={row.id} row={row} convId={state.convId} />;
    case 'log':
      return <LogLine key={row.id} level={row.level} message={row.message} />;
  }
}

/**
 * The transcript. Follows the bottom while the user is there; scrolled up, it stays put and
 * offers "Jump to latest".
 */
export function Timeline({ state, rows, pending, onDismissPending, onRetryPending, empty }: Props) {
  const scroller = useRef<HTMLDivElement>(null);
  const [atBottom, setAtBottom] = useState(true);
  const stick = useRef(true);

  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    const bottom = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
    stick.current = bottom;
    setAtBottom(bottom);
  };

  useLayoutEffect(() => {
    const el = scroller.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  });

  const jump = () => {
    const el = scroller.current;
    if (!el) return;
    stick.current = true;
    el.scrollTo({ top: el.scrollHeight, behavior: 'smooth' });
  };

  const working = state.running !== null && state.openPauses.length === 0 && !isStreaming(rows);
  const nothing = rows.length === 0 && pending.length === 0 && !state.running;
  return (
    <div className="timeline-wrap">
      <div className="timeline" ref={scroller} onScroll={onScroll} data-testid="timeline-scroller">
        {nothing ? (
          empty
        ) : (
          <div className="transcript" data-testid="transcript" role="log" aria-live="polite" aria-label="Conversation">
            {rows.map((r) => renderRow(r, state))}
            {working ? (
              <div className="row row-working" data-testid="working" aria-label="Working">
                <span className="typing">
                  <i />
                  <i />
                  <i />
                </span>
              </div>
            ) : null}
          </div>
        )}
        {pending.length > 0 ? (
          <div className="pending-list" data-testid="pending-list">
            {pending.map((p) => (
              <div key={p.localId} className="row row-user pending" data-testid="pending-prompt" data-status={p.status}>
                <div className="bubble bubble-user">{p.text}</div>
                <div className="pending-status">
                  {p.status === 'failed' ? (
                    <>
                      <span className="inline-error" role="alert">
                        Not sent: {p.error}
                      </span>
                      <button type="button" className="link-btn" onClick={() => onRetryPending(p)}>
                        Retry
                      </button>
                      <button type="button" className="link-btn" onClick={() => onDismissPending(p.localId)}>
                        Dismiss
                      </button>
                    </>
                  ) : (
                    'Sending…'
                  )}
                </div>
              </div>
            ))}
          </div>
        ) : null}
      </div>
      {!atBottom ? (
        <button type="button" className="jump-btn" onClick={jump} data-testid="jump-latest" aria-label="Jump to latest message">
          ↓ Latest
        </button>
      ) : null}
    </div>
  );
}

import type { ConversationSummary } from '../protocol';
import { pathForConv } from '../hooks/useRoute';

interface Props {
  items: ConversationSummary[];
  currentId: string | null;
  /** The open conversation is running (live, fresher than the polled list). */
  currentRunning: boolean;
  currentTitle: string | null;
  error: string | null;
  open: boolean;
  onNew: () => void;
  onSelect: (convId: string) => void;
  onDelete: (c: { convId: string; title: string }) => void;
  onClose: () => void;
}

function when(ms: number): string {
  const d = Date.now() - ms;
  if (d < 60_000) return 'just now';
  if (d < 3_600_000) return `${Math.floor(d / 60_000)} min ago`;
  if (d < 86_400_000) return `${Math.floor(d / 3_600_000)} h ago`;
  return new Date(ms).toLocaleDateString();
}

/** Conversations, newest activity first: new, switch (links: middle-click opens a tab), delete. */
export function Sidebar({ items, currentId, currentRunning, currentTitle, error, open, onNew, onSelect, onDelete, onClose }: Props) {
  const list = [...items];
  if (currentId && currentTitle && !list.some((c) => c.conv_id === currentId)) {
    list.unshift({ conv_id: currentId, title: currentTitle, created_at_ms: Date.now(), last_activity_ms: Date.now(), running: currentRunning });
  }
  return (
    <nav className={`sidebar ${open ? 'open' : ''}`} aria-label="Conversations" data-testid="sidebar">
      <div className="sidebar-head">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true" />
          Moments
        </div>
        <button type="button" className="icon-btn sidebar-close" onClick={onClose} aria-label="Close sidebar">
          ✕
        </button>
      </div>
      <button type="button" className="btn btn-new" onClick={onNew} data-testid="new-chat" aria-label="New chat">
        <svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true">
          <path d="M12 5v14M5 12h14" stroke="currentColor" strokeWidth="2" strokeLinecap="round" />
        </svg>
        New chat
      </button>
      {error ? <div className="sidebar-error">{error}</div> : null}
      <ul className="conv-list" data-testid="conversation-list">
        {list.map((c) => {
          const running = c.conv_id === currentId ? currentRunning : c.running;
          const title = c.title || 'New conversation';
          const active = c.conv_id === currentId;
          return (
            <li key={c.conv_id} className={`conv-item ${active ? 'active' : ''}`} data-testid="conversation-item" data-conv-id={c.conv_id} data-running={running ? 'true' : 'false'}>
              <a
                href={pathForConv(c.conv_id)}
                className="conv-link"
                aria-current={active ? 'page' : undefined}
                onClick={(e) => {
                  if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
                  e.preventDefault();
                  onSelect(c.conv_id);
                }}
              >
                <span className="conv-title">{title}</span>
                <span className="conv-sub">
                  {running ? (
                    <span className="running-pill" data-testid="running-indicator">
                      <span className="pulse-dot" aria-hidden="true" /> running
                    </span>
                  ) : (
                    when(c.last_activity_ms)
                  )}
                </span>
              </a>
              <button type="button" className="icon-btn conv-delete" onClick={() => onDelete({ convId: c.conv_id, title })} aria-label={`Delete conversation: ${title}`} data-testid="delete-conversation">
                <svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true">
                  <path d="M4 7h16M10 11v6M14 11v6M6 7l1 13h10l1-13M9 7V4h6v3" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" strokeLinejoin="round" />
                </svg>
              </button>
            </li>
          );
        })}
        {list.length === 0 ? <li className="conv-empty">No conversations yet.</li> : null}
      </ul>
    </nav>
  );
}

import { memo } from 'react';
import { CopyButton } from './CodeBlock';
import { Markdown } from './Markdown';

/** The user's prompt: plain text exactly as typed (never Markdown, never HTML). */
export const UserMessage = memo(function UserMessage({ id, content }: { id: string; content: string }) {
  return (
    <div className="row row-user" data-testid="msg-user" data-id={id}>
      <div className="bubble bubble-user">{content}</div>
    </div>
  );
});

export const AssistantMessage = memo(function AssistantMessage({ id, content, streaming }: { id: string; content: string; streaming: boolean }) {
  return (
    <div className="row row-assistant" data-testid="msg-assistant" data-id={id} data-streaming={streaming ? 'true' : 'false'}>
      <div className="avatar" aria-hidden="true">
        ✦
      </div>
      <div className={`assistant-body ${streaming ? 'streaming' : ''}`} aria-busy={streaming}>
        {content ? (
          <Markdown text={content} />
        ) : (
          <span className="typing" aria-label="Writing">
            <i />
            <i />
            <i />
          </span>
        )}
        {!streaming && content ? (
          <div className="msg-actions">
            <CopyButton text={content} label="Copy" className="ghost" />
          </div>
        ) : null}
      </div>
    </div>
  );
});

/** Reasoning: collapsed by default, labelled while it streams. */
export const ThinkingBlock = memo(function ThinkingBlock({ id, content, streaming }: { id: string; content: string; streaming: boolean }) {
  return (
    <div className="row row-thinking">
      <details className="thinking" data-testid="thinking" data-id={id} data-streaming={streaming ? 'true' : 'false'}>
        <summary>
          <span className={streaming ? 'pulse-dot' : 'dot'} aria-hidden="true" />
          {streaming ? 'Thinking…' : 'Thought process'}
        </summary>
        <div className="thinking-body">
          <Markdown text={content} />
        </div>
      </details>
    </div>
  );
});

export function LogLine({ level, message }: { level: string; message: string }) {
  return (
    <div className={`row row-log log-${level}`} data-testid="log-line" role={level === 'error' ? 'alert' : undefined}>
      <span className="log-level">{level}</span> <span className="log-message">{message}</span>
    </div>
  );
}

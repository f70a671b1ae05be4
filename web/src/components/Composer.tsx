import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import type { ProfileInfo } from '../protocol';

export type ComposerPhase = 'idle' | 'sending' | 'running' | 'stopping';

interface Props {
  phase: ComposerPhase;
  queued: number;
  disabled: boolean;
  disabledReason?: string;
  profiles: ProfileInfo[];
  profile: string | null;
  onProfile: (slug: string) => void;
  onSend: (text: string) => void;
  onStop: () => void;
  /** Text to put into the box (e.g. a suggestion); `nonce` changes each time. */
  preset?: { text: string; nonce: number } | null;
  autoFocusKey?: string | null;
}

const STATUS_TEXT: Record<ComposerPhase, string> = {
  idle: '',
  sending: 'Sending…',
  running: 'Running — new prompts wait in the queue',
  stopping: 'Stopping…',
};

/** Enter sends, Shift+Enter is a newline, Escape stops the run. */
export function Composer({ phase, queued, disabled, disabledReason, profiles, profile, onProfile, onSend, onStop, preset, autoFocusKey }: Props) {
  const [text, setText] = useState('');
  const box = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    if (preset) {
      setText(preset.text);
      box.current?.focus();
    }
  }, [preset]);

  // Focus the box on a conversation switch (not on touch screens: no keyboard popping up).
  useEffect(() => {
    if (window.matchMedia?.('(pointer: fine)').matches) box.current?.focus();
  }, [autoFocusKey]);

  // Grow with the content up to a limit.
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight, 240)}px`;
  }, [text]);

  const submit = () => {
    if (disabled || text.trim() === '') return;
    onSend(text);
    setText('');
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      submit();
    } else if (e.key === 'Escape' && (phase === 'running' || phase === 'stopping')) {
      e.preventDefault();
      onStop();
    }
  };

  const running = phase === 'running' || phase === 'stopping';
  const status = disabled ? disabledReason ?? '' : [STATUS_TEXT[phase], queued > 0 ? `${queued} queued` : ''].filter(Boolean).join(' · ');
  const current = profiles.find((p) => p.slug === profile);
  return (
    <form
      className="composer"
      data-testid="composer"
      data-phase={phase}
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <div className="composer-box">
        <label htmlFor="prompt" className="sr-only">
          Message
        </label>
        <textarea
          id="prompt"
          ref={box}
          data-testid="prompt-input"
          aria-label="Message"
          placeholder={running ? 'Queue a follow-up…' : 'Message the agent…'}
          rows={1}
          value={text}
          disabled={disabled}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={onKeyDown}
        />
        <div className="composer-bar">
          <label className="profile-picker">
            <span className="sr-only">Profile</span>
            <select data-testid="profile-select" aria-label="Profile" value={profile ?? ''} onChange={(e) => onProfile(e.target.value)} disabled={profiles.length === 0}>
              {profiles.map((p) => (
                <option key={p.slug} value={p.slug} title={p.description}>
                  {p.display_name || p.slug}
                  {p.offline && !/offline/i.test(p.display_name) ? ' (offline)' : ''}
                </option>
              ))}
            </select>
          </label>
          {current ? <span className="profile-model">{current.model}</span> : null}
          <span className="composer-status" data-testid="composer-status" aria-live="polite">
            {status}
          </span>
          {running ? (
            <button type="button" className="btn btn-stop" onClick={onStop} disabled={phase === 'stopping'} data-testid="stop-button" aria-label="Stop the running response (Escape)">
              <span className="stop-square" aria-hidden="true" /> {phase === 'stopping' ? 'Stopping' : 'Stop'}
            </button>
          ) : null}
          <button type="submit" className="btn btn-primary btn-send" disabled={disabled || text.trim() === ''} data-testid="send-button" aria-label={running ? 'Queue message' : 'Send message'}>
            {running ? 'Queue' : 'Send'} <span aria-hidden="true">↵</span>
          </button>
        </div>
      </div>
    </form>
  );
}

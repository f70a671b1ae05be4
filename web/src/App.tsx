import { useCallback, useEffect, useMemo, useState } from 'react';
import { api, describeError } from './api/client';
import { ConfirmDialog } from './components/ConfirmDialog';
import { ConnectionBadge } from './components/ConnectionBadge';
import { Composer, type ComposerPhase } from './components/Composer';
import { QueuePanel } from './components/QueuePanel';
import { StepToggle } from './components/StepToggle';
import { Sidebar } from './components/Sidebar';
import { Timeline } from './components/Timeline';
import { Welcome } from './components/Welcome';
import { useConversations } from './hooks/useConversations';
import { useProfiles } from './hooks/useProfiles';
import { useRoute } from './hooks/useRoute';
import { newConvId, useSender } from './hooks/useSender';
import { useStream } from './hooks/useStream';
import { landed, visiblePending } from './state/pending';
import { buildRows } from './state/rows';

const firstUserText = (rows: ReturnType<typeof buildRows>): string | null => {
  const u = rows.find((r) => r.type === 'user');
  return u && u.type === 'user' ? u.content.slice(0, 80) : null;
};

export function App() {
  const { convId, navigate } = useRoute();
  const convs = useConversations();
  const { profiles, selected, select } = useProfiles();
  const sender = useSender(selected, convs.refresh);
  const { view } = useStream(convId);
  const { state, status } = view;
  const [sidebarOpen, setSidebarOpen] = useState(false);
  const [toDelete, setToDelete] = useState<{ convId: string; title: string } | null>(null);
  const [stopping, setStopping] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [preset, setPreset] = useState<{ text: string; nonce: number } | null>(null);

  const rows = useMemo(() => buildRows(state), [state]);
  const pending = useMemo(() => visiblePending(sender.pending, state), [sender.pending, state]);
  const listItem = convs.items.find((c) => c.conv_id === convId);
  const title = listItem?.title || firstUserText(rows) || (convId ? 'New conversation' : null);
  const running = state.running !== null;

  // Prompts the log now shows are no longer "pending".
  const { prune } = sender;
  useEffect(() => prune((p) => p.convId !== state.convId || !landed(p, state)), [state, prune]);

  // Keep the sidebar's running dots and titles fresh when a run starts or ends here.
  const { refresh } = convs;
  useEffect(() => {
    if (convId) refresh();
  }, [running, convId, refresh]);

  useEffect(() => {
    if (stopping && state.running?.inferenceId !== stopping) setStopping(null);
  }, [state.running, stopping]);

  useEffect(() => {
    document.title = title ? `${title} · Moments` : 'Moments Webchat';
  }, [title]);

  useEffect(() => setNotice(null), [convId]);

  /** Step mode chosen on a new chat before its first prompt (the conversation does not exist yet). */
  const [newChatStep, setNewChatStep] = useState(false);
  useEffect(() => setNewChatStep(false), [convId]);

  const onSend = useCallback(
    (text: string) => {
      if (convId) return sender.send(convId, text);
      // a new chat: its first prompt creates it, already stepped when the switch was turned on
      const id = newConvId();
      navigate(id);
      sender.send(id, text, newChatStep ? { step_mode: true } : null);
    },
    [convId, navigate, sender, newChatStep],
  );

  const onStop = useCallback(() => {
    const r = state.running;
    if (!convId || !r) return;
    setStopping(r.inferenceId);
    api.cancel(convId, r.inferenceId).catch((err: unknown) => {
      setStopping(null);
      setNotice(`Stop failed: ${describeError(err)}`);
    });
  }, [convId, state.running]);

  const onDelete = useCallback(async () => {
    const target = toDelete;
    setToDelete(null);
    if (!target) return;
    try {
      await api.deleteConversation(target.convId);
      convs.removeLocal(target.convId);
      if (target.convId === convId) navigate(null);
    } catch (err) {
      setNotice(`Delete failed: ${describeError(err)}`);
    }
    convs.refresh();
  }, [toDelete, convId, navigate, convs]);

  const phase: ComposerPhase = running
    ? stopping === state.running?.inferenceId
      ? 'stopping'
      : 'running'
    : pending.some((p) => p.status === 'sending')
      ? 'sending'
      : 'idle';
  const gone = status === 'deleted' || status === 'forbidden';

  return (
    <div className="app" data-testid="app">
      <Sidebar
        items={convs.items}
        currentId={convId}
        currentRunning={running}
        currentTitle={rows.length > 0 ? title : null}
        error={convs.error}
        open={sidebarOpen}
        onNew={() => {
          navigate(null);
          setSidebarOpen(false);
        }}
        onSelect={(id) => {
          navigate(id);
          setSidebarOpen(false);
        }}
        onDelete={setToDelete}
        onClose={() => setSidebarOpen(false)}
      />
      {sidebarOpen ? <div className="scrim" onClick={() => setSidebarOpen(false)} aria-hidden="true" /> : null}
      <main className="main" data-testid="chat" data-conv-id={convId ?? ''}>
        <header className="topbar">
          <button type="button" className="icon-btn menu-btn" onClick={() => setSidebarOpen(true)} aria-label="Open conversations" data-testid="open-sidebar">
            <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true">
              <path d="M4 7h16M4 12h16M4 17h16" stroke="currentColor" strokeWidth="2" strokeLinecap="round" />
            </svg>
          </button>
          <h1 className="conv-heading" data-testid="conversation-title">
            {title ?? 'New chat'}
          </h1>
          {running ? (
            <span className="running-pill" data-testid="run-indicator">
              <span className="pulse-dot" aria-hidden="true" /> Running
            </span>
          ) : null}
          {(!convId || view.hydrated) && !gone ? <StepToggle convId={convId} enabled={convId ? state.stepMode : newChatStep} onLocalToggle={setNewChatStep} onError={setNotice} /> : null}
          {convId ? <ConnectionBadge status={status} /> : null}
        </header>
        {gone ? (
          <div className="banner banner-error" role="alert" data-testid="gone-banner">
            {status === 'deleted' ? 'This conversation was deleted.' : 'You do not have access to this conversation.'}
          </div>
        ) : null}
        {notice ? (
          <div className="banner banner-error" role="alert">
            {notice}
            <button type="button" className="link-btn" onClick={() => setNotice(null)}>
              Dismiss
            </button>
          </div>
        ) : null}
        <Timeline
          state={state}
          rows={convId ? rows : []}
          pending={pending}
          onDismissPending={sender.dismiss}
          onRetryPending={(p) => {
            sender.dismiss(p.localId);
            sender.send(p.convId, p.text);
          }}
          empty={convId && !view.hydrated ? <div className="loading" aria-label="Loading" /> : <Welcome onPick={(text) => setPreset({ text, nonce: Date.now() })} />}
        />
        <div className="bottom">
          <QueuePanel queue={state.queue} />
          <Composer
            phase={phase}
            queued={state.queue.length}
            disabled={gone}
            disabledReason={gone ? 'This conversation is closed.' : undefined}
            profiles={profiles}
            profile={selected}
            onProfile={select}
            onSend={onSend}
            onStop={onStop}
            preset={preset}
            autoFocusKey={convId}
          />
        </div>
      </main>
      <ConfirmDialog
        open={toDelete !== null}
        title="Delete conversation?"
        body={toDelete ? `“${toDelete.title}” and its history will be deleted for good. A running answer is stopped.` : ''}
        confirmLabel="Delete"
        onConfirm={onDelete}
        onCancel={() => setToDelete(null)}
      />
    </div>
  );
}

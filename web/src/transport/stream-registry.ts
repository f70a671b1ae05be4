import { api, ApiError, socketUrl } from '../api/client';
import { ConversationStream, TerminalStreamError, type SocketLike } from './conversation-stream';

/**
 * One `ConversationStream` per conversation per tab, shared by whoever needs it (the chat view,
 * the sender that must open the socket before the first POST), reference-counted. A stream
 * released by everyone stops after a short grace period (switching back and forth is free).
 */
const streams = new Map<string, { stream: ConversationStream; refs: number; stopTimer: ReturnType<typeof setTimeout> | null }>();

const debug = () => typeof localStorage !== 'undefined' && localStorage.getItem('mw_debug') === '1';

function create(convId: string): ConversationStream {
  const stream = new ConversationStream({
    convId,
    fetchSnapshot: (id) =>
      api.timeline(id).catch((err: unknown) => {
        if (err instanceof ApiError && err.status === 410) throw new TerminalStreamError('deleted');
        if (err instanceof ApiError && err.status === 403) throw new TerminalStreamError('forbidden');
        throw err;
      }),
    openSocket: (q) => new WebSocket(socketUrl(q)) as unknown as SocketLike,
    validate: true,
    isOnline: () => navigator.onLine,
    onProblem: (message, detail) => {
      if (message.startsWith('invalid') || debug()) console.warn(`[webchat ${convId}] ${message}`, detail ?? '');
    },
  });
  stream.start();
  return stream;
}

export function acquireStream(convId: string): { stream: ConversationStream; release: () => void } {
  let entry = streams.get(convId);
  if (!entry) {
    entry = { stream: create(convId), refs: 0, stopTimer: null };
    streams.set(convId, entry);
  }
  if (entry.stopTimer) clearTimeout(entry.stopTimer);
  entry.stopTimer = null;
  entry.refs++;
  const e = entry;
  let released = false;
  return {
    stream: e.stream,
    release: () => {
      if (released) return;
      released = true;
      if (--e.refs > 0) return;
      e.stopTimer = setTimeout(() => {
        if (e.refs > 0) return;
        e.stream.stop();
        streams.delete(convId);
      }, 5_000);
    },
  };
}

/** The browser is back online or the tab visible again: reconnect now instead of waiting. */
export function reconnectAll(): void {
  for (const { stream } of streams.values()) stream.reconnectNow();
}

if (typeof window !== 'undefined') {
  window.addEventListener('online', reconnectAll);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') reconnectAll();
  });
}

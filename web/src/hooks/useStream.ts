import { useEffect, useState, useSyncExternalStore } from 'react';
import type { ConversationStream, StreamView } from '../transport/conversation-stream';
import { acquireStream } from '../transport/stream-registry';

const IDLE: StreamView = {
  state: { convId: '', epoch: '', version: 0, entities: {}, order: [], running: null, queue: [], openPauses: [], stepMode: false, currentTurnId: null },
  status: 'connecting',
  hydrated: false,
};
const noopSubscribe = () => () => undefined;

/** The live state of a conversation (null id: nothing). */
export function useStream(convId: string | null): { view: StreamView; stream: ConversationStream | null } {
  const [stream, setStream] = useState<ConversationStream | null>(null);
  useEffect(() => {
    if (!convId) {
      setStream(null);
      return;
    }
    const { stream: s, release } = acquireStream(convId);
    setStream(s);
    return release;
  }, [convId]);
  const current = stream && stream.convId === convId ? stream : null;
  const view = useSyncExternalStore(current?.subscribe ?? noopSubscribe, current?.getView ?? (() => IDLE));
  return { view, stream: current };
}

import { useCallback, useEffect, useRef, useState } from 'react';
import { api, describeError } from '../api/client';
import type { ConversationSummary } from '../protocol';

/** The sidebar list (`GET /api/conversations`), refreshed on demand and every few seconds. */
export function useConversations(pollMs = 5_000): {
  items: ConversationSummary[];
  loaded: boolean;
  error: string | null;
  refresh: () => void;
  removeLocal: (convId: string) => void;
} {
  const [items, setItems] = useState<ConversationSummary[]>([]);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const seq = useRef(0);

  const refresh = useCallback(() => {
    const mine = ++seq.current;
    api.listConversations().then(
      (list) => {
        if (mine !== seq.current) return;
        setItems(list.items);
        setLoaded(true);
        setError(null);
      },
      (err: unknown) => {
        if (mine === seq.current) setError(describeError(err));
      },
    );
  }, []);

  useEffect(() => {
    refresh();
    const t = setInterval(() => {
      if (document.visibilityState === 'visible') refresh();
    }, pollMs);
    return () => clearInterval(t);
  }, [refresh, pollMs]);

  const removeLocal = useCallback((convId: string) => setItems((xs) => xs.filter((x) => x.conv_id !== convId)), []);
  return { items, loaded, error, refresh, removeLocal };
}

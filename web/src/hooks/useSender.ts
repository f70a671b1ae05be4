import { useCallback, useRef, useState } from 'react';
import { api, ApiError, describeError } from '../api/client';
import type { PendingPrompt } from '../state/pending';
import { acquireStream } from '../transport/stream-registry';

const uuid = (): string =>
  typeof crypto.randomUUID === 'function'
    ? crypto.randomUUID()
    : '10000000-1000-4000-8000-100000000000'.replace(/[018]/g, (c) => (Number(c) ^ (crypto.getRandomValues(new Uint8Array(1))[0]! & (15 >> (Number(c) / 4)))).toString(16));

export const newConvId = uuid;

/**
 * Sends prompts in the order they were typed (one POST at a time per tab), each with an
 * idempotency key so a retry after a network error cannot run the prompt twice. The
 * conversation's socket is opened before the POST, so a new conversation misses nothing.
 */
export function useSender(runtimeKey: string | null, onAccepted: () => void) {
  const [pending, setPending] = useState<PendingPrompt[]>([]);
  const chain = useRef<Promise<void>>(Promise.resolve());
  const key = useRef(runtimeKey);
  key.current = runtimeKey;

  const update = (localId: string, patch: Partial<PendingPrompt>) =>
    setPending((ps) => ps.map((p) => (p.localId === localId ? { ...p, ...patch } : p)));

  const send = useCallback(
    (convId: string, text: string, overrides: { step_mode?: boolean } | null = null) => {
      const localId = uuid();
      const idempotencyKey = uuid();
      setPending((ps) => [...ps, { localId, convId, text, status: 'sending', turnId: null, error: null }]);
      chain.current = chain.current.then(async () => {
        const { stream, release } = acquireStream(convId);
        try {
          await stream.waitConnected(4_000);
          const body = {
            prompt: text, conv_id: convId, idempotency_key: idempotencyKey,
            ...(key.current ? { runtime_key: key.current } : {}),
            ...(overrides ? { request_overrides: overrides } : {}),
          };
          let res;
          try {
            res = await api.chat(body);
          } catch (err) {
            if (!(err instanceof ApiError && err.code === 'network')) throw err;
            await new Promise((r) => setTimeout(r, 1_000));
            res = await api.chat(body); // same idempotency key: never runs twice
          }
          update(localId, { status: 'accepted', turnId: res.turn_id });
          onAccepted();
        } catch (err) {
          update(localId, { status: 'failed', error: describeError(err) });
        } finally {
          release();
        }
      });
    },
    [onAccepted],
  );

  const dismiss = useCallback((localId: string) => setPending((ps) => ps.filter((p) => p.localId !== localId)), []);
  /** Forget prompts the log already shows (keeps the list short). */
  const prune = useCallback((keep: (p: PendingPrompt) => boolean) => {
    setPending((ps) => (ps.every(keep) ? ps : ps.filter(keep)));
  }, []);
  return { pending, send, dismiss, prune };
}

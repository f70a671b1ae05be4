import type { QueueEntry } from '../state/types';

/** Prompts waiting for the active run (`run.queued`), the same in every tab. */
export function QueuePanel({ queue }: { queue: readonly QueueEntry[] }) {
  if (queue.length === 0) return null;
  return (
    <section className="queue" data-testid="queue" aria-label="Queued prompts">
      <div className="queue-title">Queued · {queue.length}</div>
      <ol className="queue-list">
        {queue.map((q) => (
          <li key={q.turnId} className="queue-item" data-testid="queue-item" data-turn-id={q.turnId}>
            <span className="queue-pos" aria-label={`position ${q.position}`}>
              {q.position}
            </span>
            <span className="queue-prompt">{q.prompt}</span>
          </li>
        ))}
      </ol>
    </section>
  );
}

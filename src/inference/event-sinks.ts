import { AsyncLocalStorage } from 'node:async_hooks';
import type { InferenceEvent } from './events';

/** Receives events synchronously, in publish order. Must not throw (errors are swallowed). */
export interface EventSink {
  publish(event: InferenceEvent): void;
}

export function sinkFrom(fn: (e: InferenceEvent) => void): EventSink {
  return { publish: fn };
}

const storage = new AsyncLocalStorage<readonly EventSink[]>();

/** The sinks of the current async context. */
export function currentSinks(): readonly EventSink[] {
  return storage.getStore() ?? [];
}

function dedupe(list: readonly EventSink[]): EventSink[] {
  return [...new Set(list)];
}

/**
 * Runs `fn` with `sinks` added to the sinks of the current context (each sink at most once, so
 * nesting never delivers an event twice to one sink). Concurrent runs never see each other's sinks.
 */
export function withEventSinks<R>(sinks: readonly EventSink[], fn: () => R): R {
  return storage.run(dedupe([...currentSinks(), ...sinks]), fn);
}

/** Runs `fn` with exactly `sinks` (the outer context's sinks are not inherited). */
export function withOnlyEventSinks<R>(sinks: readonly EventSink[], fn: () => R): R {
  return storage.run(dedupe(sinks), fn);
}

/** Publishes to every sink of the current context; a sink that throws does not stop the others. */
export function publishEvent(event: InferenceEvent): void {
  const sinks = storage.getStore();
  if (!sinks) return;
  for (const s of sinks) {
    try {
      s.publish(event);
    } catch {
      /* a sink's failure is its own business */
    }
  }
}

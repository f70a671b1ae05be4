import type { EngineCallOptions } from '../engine';
import { createEvent } from '../events';
import { publishEvent } from '../event-sinks';

/** Publishes a `log` event stamped with the run's identity to the context sinks. */
export function publishLog(
  opts: EngineCallOptions,
  level: 'debug' | 'info' | 'warn' | 'error',
  message: string,
  fields: Record<string, unknown> | null = null,
): void {
  publishEvent(createEvent('log', opts.run, { level, message, fields }));
}

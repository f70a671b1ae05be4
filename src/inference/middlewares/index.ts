import { z } from 'zod';
import { InferenceError } from '../errors';
import type { Middleware } from '../middleware';
import { blockOrderNormalizerMiddleware } from './block-order-normalizer';
import { historyTrimMiddleware } from './history-trim';
import { publishLog } from './log-event';
import { loggingMiddleware } from './logging';
import { systemPromptMiddleware } from './system-prompt';
import { toolCallNoiseMiddleware } from './tool-call-noise';
import { toolResultReorderMiddleware } from './tool-result-reorder';

export { applySystemPrompt, systemPromptMiddleware, SYSTEM_PROMPT_TAG } from './system-prompt';
export { reorderToolResults, reorderTurnToolResults, toolResultReorderMiddleware } from './tool-result-reorder';
export {
  blockOrderNormalizerMiddleware, normalizeBlockOrder, normalizeTurnBlockOrder,
  type DroppedBlock, type NormalizedBlocks,
} from './block-order-normalizer';
export {
  stripToolCallNoise, stripToolCallNoiseFromNewBlocks, toolCallNoiseMiddleware, TOOL_CALL_NOISE_PATTERNS,
} from './tool-call-noise';
export {
  blockChars, estimateTokens, historyTrimMiddleware, reattachDropped, trimHistory,
  type HistoryTrimOptions, type TokenEstimator, type TrimResult,
} from './history-trim';
export { loggingMiddleware, type LogContext, type LogEntry, type LogFn } from './logging';
export { publishLog } from './log-event';

/** Options each built-in accepts in a profile (snake_case; unknown keys are rejected). */
export const BUILTIN_MIDDLEWARE_OPTIONS = {
  'system-prompt': z.object({ prompt: z.string() }).strict(),
  'tool-result-reorder': z.object({}).strict(),
  'block-order-normalizer': z.object({}).strict(),
  'tool-call-noise': z.object({}).strict(),
  'history-trim': z.object({ max_tokens: z.number().int().positive() }).strict(),
  'logging': z.object({ level: z.enum(['debug', 'info']).default('debug') }).strict(),
} as const;

export type BuiltinMiddlewareName = keyof typeof BUILTIN_MIDDLEWARE_OPTIONS;
export const BUILTIN_MIDDLEWARE_NAMES = Object.keys(BUILTIN_MIDDLEWARE_OPTIONS) as BuiltinMiddlewareName[];

/** A middleware name no one registered. */
export class UnknownMiddlewareError extends InferenceError {
  constructor(readonly middleware: string) {
    super('unknown_middleware', `unknown middleware "${middleware}" (known: ${BUILTIN_MIDDLEWARE_NAMES.join(', ')})`, { middleware });
  }
}

/** Options a middleware rejected; the message lists every problem with its path. */
export class MiddlewareOptionsError extends InferenceError {
  constructor(readonly middleware: string, readonly problems: string[]) {
    super('invalid_middleware_options', `middleware "${middleware}": invalid options: ${problems.join('; ')}`, { middleware, problems });
  }
}

export function isBuiltinMiddlewareName(name: string): name is BuiltinMiddlewareName {
  return Object.hasOwn(BUILTIN_MIDDLEWARE_OPTIONS, name);
}

/**
 * Validates `options` (undefined/null = `{}`) for the built-in `name`; returns the parsed options
 * with defaults applied. Throws {@link UnknownMiddlewareError} or {@link MiddlewareOptionsError}.
 * Profile loading can call this at start without building anything.
 */
export function validateMiddlewareOptions<N extends BuiltinMiddlewareName>(
  name: N,
  options: unknown,
): z.output<(typeof BUILTIN_MIDDLEWARE_OPTIONS)[N]>;
export function validateMiddlewareOptions(name: string, options: unknown): Record<string, unknown>;
export function validateMiddlewareOptions(name: string, options: unknown): Record<string, unknown> {
  if (!isBuiltinMiddlewareName(name)) throw new UnknownMiddlewareError(name);
  const parsed = BUILTIN_MIDDLEWARE_OPTIONS[name].safeParse(options ?? {});
  if (!parsed.success) {
    throw new MiddlewareOptionsError(
      name,
      parsed.error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(options)'}: ${i.message}`),
    );
  }
  return parsed.data as Record<string, unknown>;
}

/** Built-in middlewares by the name profiles use; each validates its options and throws a clear error. */
export const BUILTIN_MIDDLEWARES: Record<string, (options: Record<string, unknown>) => Middleware> = {
  'system-prompt': (options) => systemPromptMiddleware(validateMiddlewareOptions('system-prompt', options).prompt),
  'tool-result-reorder': (options) => {
    validateMiddlewareOptions('tool-result-reorder', options);
    return toolResultReorderMiddleware();
  },
  'block-order-normalizer': (options) => {
    validateMiddlewareOptions('block-order-normalizer', options);
    return blockOrderNormalizerMiddleware();
  },
  'tool-call-noise': (options) => {
    validateMiddlewareOptions('tool-call-noise', options);
    return toolCallNoiseMiddleware();
  },
  'history-trim': (options) =>
    historyTrimMiddleware({ maxTokens: validateMiddlewareOptions('history-trim', options).max_tokens }),
  'logging': (options) => {
    const { level } = validateMiddlewareOptions('logging', options);
    return loggingMiddleware((entry, { opts }) => {
      publishLog(opts, entry.phase === 'error' ? 'error' : level, `inference ${entry.phase}`, { ...entry });
    });
  },
};

/** Builds the built-in `name` with `options` (undefined/null = `{}`); throws on an unknown name or bad options. */
export function buildMiddleware(name: string, options?: Record<string, unknown> | null): Middleware {
  if (!isBuiltinMiddlewareName(name)) throw new UnknownMiddlewareError(name);
  return BUILTIN_MIDDLEWARES[name]!(options ?? {});
}

import type { Turn } from './turn';
import type { EngineCallOptions } from './engine';

/** One step of the engine chain: a turn in, a turn out. */
export type Handler = (turn: Turn, opts: EngineCallOptions) => Promise<Turn>;

/** Wraps the next handler. */
export type Middleware = (next: Handler) => Handler;

/**
 * Composes middlewares around a handler: `compose([A, B, C], h)` = `A(B(C(h)))`, so the first
 * listed is the outermost (D8): requests pass A → B → C → h, responses h → C → B → A.
 */
export function compose(middlewares: readonly Middleware[], handler: Handler): Handler {
  return middlewares.reduceRight<Handler>((next, mw) => mw(next), handler);
}

import type { EngineCallOptions } from '../engine';
import type { InferenceEvent } from '../events';
import { sinkFrom, withEventSinks } from '../event-sinks';
import type { Handler } from '../middleware';
import { appendBlocks, type Block, type Turn } from '../turn';

/** Call options for tests (no tools, a signal that never fires). */
export function testOpts(): EngineCallOptions {
  return {
    signal: new AbortController().signal,
    run: { sessionId: 'sess', inferenceId: 'inf', turnId: 'turn' },
    tools: [],
    settings: {},
  };
}

/** A fake engine: records the turn it saw and appends `added`. */
export function fakeEngine(...added: Block[]): Handler & { seen: Turn[] } {
  const seen: Turn[] = [];
  const h = async (turn: Turn): Promise<Turn> => {
    seen.push(turn);
    return appendBlocks(turn, ...added);
  };
  return Object.assign(h, { seen });
}

/** Runs `fn` with a sink that collects every event published in it. */
export async function captureEvents<R>(fn: () => Promise<R>): Promise<{ result: R; events: InferenceEvent[] }> {
  const events: InferenceEvent[] = [];
  const result = await withEventSinks([sinkFrom((e) => events.push(e))], fn);
  return { result, events };
}

export const ids = (t: Turn | readonly Block[]): string[] => ('blocks' in t ? t.blocks : t).map((b) => b.id);
export const kinds = (t: Turn | readonly Block[]): string[] => ('blocks' in t ? t.blocks : t).map((b) => b.kind);

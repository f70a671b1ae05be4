import { expect } from 'vitest';
import { z } from 'zod';
import type { Engine, EngineCallOptions, EngineSettings } from '../../inference/engine';
import { sinkFrom, withEventSinks } from '../../inference/event-sinks';
import type { InferenceEvent, RunIdentity } from '../../inference/events';
import { defineTool, type ToolDefinition } from '../../inference/tools/tool-definition';
import type { Turn } from '../../inference/turn';

export const RUN: RunIdentity = { sessionId: 'conv-test', inferenceId: 'inf-test', turnId: 'turn-test' };

/** The API key every provider test uses; it must never appear in an event. */
export const TEST_API_KEY = 'sk-test-SECRET-0123456789abcdef';

/** Tools offered in the provider tests (their JSON Schemas must reach the request). */
export const calcTool: ToolDefinition = defineTool({
  name: 'calc',
  description: 'Evaluates an arithmetic expression.',
  schema: z.object({ expression: z.string().describe('e.g. 2+3') }),
  run: () => 0,
}) as ToolDefinition;

export const timeTool: ToolDefinition = defineTool({
  name: 'get_time',
  description: 'Returns the current time in a time zone.',
  schema: z.object({ tz: z.string() }),
  run: () => '12:00',
}) as ToolDefinition;

export const TEST_TOOLS: readonly ToolDefinition[] = [calcTool, timeTool];

export interface RunResult {
  turn: Turn | null;
  error: unknown;
  events: InferenceEvent[];
}

/**
 * Runs one engine call with a capturing sink. `onEvent` sees each event as it is published
 * (e.g. to abort at the first `partial`). Never throws: the error is in the result.
 */
export async function runEngine(
  engine: Engine,
  turn: Turn,
  opts: {
    tools?: readonly ToolDefinition[];
    settings?: EngineSettings;
    controller?: AbortController;
    onEvent?: (e: InferenceEvent, controller: AbortController) => void;
  } = {},
): Promise<RunResult> {
  const controller = opts.controller ?? new AbortController();
  const events: InferenceEvent[] = [];
  const sink = sinkFrom((e) => { events.push(e); opts.onEvent?.(e, controller); });
  const call: EngineCallOptions = { signal: controller.signal, run: RUN, tools: opts.tools ?? TEST_TOOLS, settings: opts.settings ?? {} };
  try {
    const out = await withEventSinks([sink], () => engine.runInference(turn, call));
    return { turn: out, error: null, events };
  } catch (error) {
    return { turn: null, error, events };
  }
}

export function ofType<T extends InferenceEvent['type']>(events: InferenceEvent[], type: T): Extract<InferenceEvent, { type: T }>[] {
  return events.filter((e): e is Extract<InferenceEvent, { type: T }> => e.type === type);
}

/** Event types of the message, consecutive duplicates collapsed (`partial ×3` → one `partial`). */
export function shape(events: InferenceEvent[]): string[] {
  const out: string[] = [];
  for (const e of events) if (out[out.length - 1] !== e.type) out.push(e.type);
  return out;
}

/**
 * The invariants of one LLM message, whatever the provider: at most one `start`, before any
 * `partial` / `tool-call`; `partial` offsets contiguous from 0; at most one `final`, last of the
 * message events, whose text is the concatenation of the deltas; thinking likewise; one message id.
 */
export function assertMessageInvariants(events: InferenceEvent[], opts: { final: boolean }): void {
  const msg = events.filter((e) => e.type !== 'log');
  expect(ofType(msg, 'start').length).toBeLessThanOrEqual(1);
  const startIdx = msg.findIndex((e) => e.type === 'start');
  msg.forEach((e, i) => {
    if (e.type === 'partial' || e.type === 'tool-call') expect(i).toBeGreaterThan(startIdx);
  });
  let text = '';
  for (const p of ofType(msg, 'partial')) {
    expect(p.offset).toBe(text.length);
    text += p.delta;
  }
  let thinking = '';
  for (const p of ofType(msg, 'partial-thinking')) {
    expect(p.offset).toBe(thinking.length);
    thinking += p.delta;
  }
  for (const f of ofType(msg, 'thinking-final')) expect(f.text).toBe(thinking);
  const finals = ofType(msg, 'final');
  expect(finals.length).toBe(opts.final ? 1 : 0);
  if (opts.final) {
    expect(msg[msg.length - 1]!.type).toBe('final');
    expect(finals[0]!.text).toBe(text);
  }
  expect(new Set(msg.map((e) => e.meta.messageId)).size).toBeLessThanOrEqual(1);
  for (const e of events) {
    expect(e.meta.inferenceId).toBe(RUN.inferenceId);
  }
  expect(JSON.stringify(events)).not.toContain(TEST_API_KEY);
}

// Test support for the tool executors (imported by *.test.ts only).
import { z } from 'zod';
import { defineTool, type ToolDefinition } from './tool-definition';
import { DEFAULT_TOOL_CONFIG, type ToolCall, type ToolConfig, type ToolExecutionContext, type ToolResult } from './tool-executor';
import { ToolRegistry } from './tool-registry';

export interface Recorded {
  started: string[];
  finished: { id: string; status: ToolResult['status'] }[];
}

export function makeCtx(
  tools: ToolDefinition<any, any>[],
  config: Partial<ToolConfig> = {},
  signal: AbortSignal = new AbortController().signal,
): { ctx: ToolExecutionContext; rec: Recorded } {
  const rec: Recorded = { started: [], finished: [] };
  const ctx: ToolExecutionContext = {
    registry: new ToolRegistry(tools),
    config: { ...DEFAULT_TOOL_CONFIG, ...config, retry: { ...DEFAULT_TOOL_CONFIG.retry, ...config.retry } },
    signal,
    principal: 'alice',
    onStart: (c) => rec.started.push(c.id),
    onResult: (c, r) => rec.finished.push({ id: c.id, status: r.status }),
  };
  return { ctx, rec };
}

export function call(id: string, name: string, args: unknown = {}): ToolCall {
  return { id, name, args };
}

/** Resolves once `cond()` holds (polls on macrotasks; fails after `ms`). */
export async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((r) => setImmediate(r));
  }
}

/** A tool that never settles and ignores its signal; records the signals it was given. */
export function hangingTool(name = 'hang') {
  const signals: AbortSignal[] = [];
  const tool = defineTool({
    name,
    description: 'never returns',
    schema: z.object({}),
    run: (_args, { signal }) => {
      signals.push(signal);
      return new Promise<never>(() => {});
    },
  });
  return { tool, signals };
}

export function echoTool(name = 'echo') {
  return defineTool({
    name,
    description: 'returns its input',
    schema: z.object({ value: z.unknown() }),
    run: ({ value }) => value,
  });
}

export function failingTool(name = 'fail', message = 'boom') {
  let runs = 0;
  const tool = defineTool({
    name,
    description: 'always throws',
    schema: z.object({}),
    run: async () => {
      runs++;
      throw new Error(message);
    },
  });
  return { tool, runs: () => runs };
}

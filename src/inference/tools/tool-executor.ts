import type { ToolStatus } from '../../protocol/frames';
import type { ToolRegistry } from './tool-registry';

export interface ToolCall {
  id: string;
  name: string;
  args: unknown;
  providerCallId?: string | null;
}

export interface ToolResult {
  id: string;
  status: ToolStatus;
  /** JSON value the tool returned (a string with a marker when truncated); null on failure. */
  result: unknown;
  error: string | null;
  durationMs: number;
  truncated: boolean;
  retries: number;
}

export type ToolErrorPolicy = 'continue' | 'abort' | 'retry';

export interface RetryConfig {
  maxRetries: number;
  backoffBaseMs: number;
  backoffFactor: number;
}

export interface ToolConfig {
  enabled: boolean;
  toolChoice: 'auto' | 'none' | 'required';
  maxParallelTools: number;
  /** Per-call timeout, enforced even when the tool ignores its signal. */
  executionTimeoutMs: number;
  allowedTools: readonly string[] | null;
  errorPolicy: ToolErrorPolicy;
  retry: RetryConfig;
  /** Results larger than this (bytes of JSON) are truncated with a marker. */
  maxToolResultBytes: number;
}

export const DEFAULT_TOOL_CONFIG: ToolConfig = {
  enabled: true,
  toolChoice: 'auto',
  maxParallelTools: 3,
  executionTimeoutMs: 60_000,
  allowedTools: null,
  errorPolicy: 'continue',
  retry: { maxRetries: 2, backoffBaseMs: 1000, backoffFactor: 2 },
  maxToolResultBytes: 64 * 1024,
};

export interface ToolExecutionContext {
  registry: ToolRegistry;
  config: ToolConfig;
  /** The run's signal: cancel reaches every running tool through it. */
  signal: AbortSignal;
  principal: string | null;
  /** Called when a call actually begins executing (after validation, when its slot is free). */
  onStart?(call: ToolCall): void;
  /** Called as each call finishes (in completion order). */
  onResult?(call: ToolCall, result: ToolResult): void;
}

/**
 * Executes a batch of tool calls and returns one result per call, in call order (D9).
 * Never throws for a tool's failure: failures are results the model sees.
 */
export interface ToolExecutor {
  execute(calls: readonly ToolCall[], ctx: ToolExecutionContext): Promise<ToolResult[]>;
}

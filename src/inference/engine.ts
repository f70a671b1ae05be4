import type { Turn } from './turn';
import type { ToolDefinition } from './tools/tool-definition';
import type { RunIdentity } from './events';

/** What an engine gets besides the turn. */
export interface EngineCallOptions {
  signal: AbortSignal;
  /** The run's identity, for stamping events. */
  run: RunIdentity;
  /** Tools offered to the model on this call (already filtered by the tool config). */
  tools: readonly ToolDefinition[];
  /** Per-run settings (temperature etc.) from the profile and request overrides. */
  settings: EngineSettings;
}

export interface EngineSettings {
  temperature?: number | null;
  maxOutputTokens?: number | null;
  toolChoice?: 'auto' | 'none' | 'required';
  parallelToolCalls?: boolean;
}

/**
 * One provider call: streams events to the context sinks (`start` lazily at the first content
 * or tool-call chunk), returns the turn with the new blocks (`llm_text`, `reasoning`,
 * `tool_call`) appended, never executes tools, and honours `signal` promptly (throws on abort).
 */
export interface Engine {
  readonly name: string;
  readonly model: string;
  runInference(turn: Turn, opts: EngineCallOptions): Promise<Turn>;
}

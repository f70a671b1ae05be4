import { ToolLoopEngineBuilder } from '../inference/engine-builder';
import type { EventSink } from '../inference/event-sinks';
import type { LoopHooks, SnapshotHook } from '../inference/loop-hooks';
import type { Middleware } from '../inference/middleware';
import { buildMiddleware } from '../inference/middlewares';
import { systemPromptMiddleware } from '../inference/middlewares/system-prompt';
import { toolResultReorderMiddleware } from '../inference/middlewares/tool-result-reorder';
import { builtinTools } from '../inference/tools/builtin';
import type { ToolDefinition } from '../inference/tools/tool-definition';
import { ToolRegistry } from '../inference/tools/tool-registry';
import { engineForProfile } from './engine-factory';
import type { PromptRuntime } from './runtime-profile';

/** Tools a profile may name: the built-ins plus whatever the application registers. */
export class ToolCatalog {
  private readonly tools = new Map<string, ToolDefinition>();
  constructor(tools: Iterable<ToolDefinition<any, any>> = builtinTools()) {
    for (const t of tools) this.add(t);
  }
  add(t: ToolDefinition<any, any>): this {
    this.tools.set(t.name, t as ToolDefinition);
    return this;
  }
  has(name: string): boolean {
    return this.tools.has(name);
  }
  registryFor(names: readonly string[]): ToolRegistry {
    return new ToolRegistry(names.map((n) => this.tools.get(n)).filter((t): t is ToolDefinition => !!t));
  }
  names(): string[] {
    return [...this.tools.keys()];
  }
}

export interface RunBuilderDeps {
  catalog: ToolCatalog;
  sink: EventSink;
  snapshotHook: SnapshotHook;
  hooks: LoopHooks;
  principal: string | null;
  maxToolResultBytes: number;
}

/**
 * The engine builder of a prompt's runtime. Chain (outer → inner): tool-result reorder →
 * profile middlewares in listed order (D8) → system prompt → engine.
 */
export function buildRunBuilder(rt: PromptRuntime, d: RunBuilderDeps): ToolLoopEngineBuilder {
  const p = rt.profile;
  const systemPrompt = rt.overrides?.system_prompt ?? p.systemPrompt;
  const middlewares: Middleware[] = [
    toolResultReorderMiddleware(),
    ...p.middlewares.map((m) => buildMiddleware(m.name, m.options)),
    systemPromptMiddleware(systemPrompt),
  ];
  return new ToolLoopEngineBuilder({
    engine: engineForProfile(p),
    middlewares,
    registry: d.catalog.registryFor(p.tools),
    toolConfig: { maxToolResultBytes: d.maxToolResultBytes },
    hooks: d.hooks,
    sinks: [d.sink],
    snapshotHook: d.snapshotHook,
    settings: { temperature: rt.overrides?.temperature ?? p.temperature, maxOutputTokens: p.maxOutputTokens },
    approvalRequired: p.approvalTools,
    maxIterations: p.maxIterations,
    principal: d.principal,
  });
}

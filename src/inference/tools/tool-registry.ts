import type { ToolDefinition } from './tool-definition';

/** Tools by name. Copy-on-clone, so a run can add tools without touching the shared registry. */
export class ToolRegistry {
  private readonly tools = new Map<string, ToolDefinition>();

  constructor(tools: Iterable<ToolDefinition<any, any>> = []) {
    for (const t of tools) this.register(t);
  }

  register(tool: ToolDefinition<any, any>): this {
    if (!tool.name) throw new Error('tool name is empty');
    if (this.tools.has(tool.name)) throw new Error(`tool already registered: ${tool.name}`);
    this.tools.set(tool.name, tool as ToolDefinition);
    return this;
  }

  unregister(name: string): boolean {
    return this.tools.delete(name);
  }

  get(name: string): ToolDefinition | undefined {
    return this.tools.get(name);
  }

  has(name: string): boolean {
    return this.tools.has(name);
  }

  list(): ToolDefinition[] {
    return [...this.tools.values()];
  }

  names(): string[] {
    return [...this.tools.keys()];
  }

  clone(): ToolRegistry {
    return new ToolRegistry(this.tools.values());
  }

  /** A registry of the tools whose names are in `allowed` (all when null). */
  filter(allowed: readonly string[] | null): ToolRegistry {
    if (!allowed) return this.clone();
    return new ToolRegistry(this.list().filter((t) => allowed.includes(t.name)));
  }
}

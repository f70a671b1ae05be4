import { z } from 'zod';

export interface ToolRunContext {
  /** Fires on cancel, timeout or when the run ends; a well-behaved tool stops promptly. */
  signal: AbortSignal;
  toolCallId: string;
  /** Who asked (the conversation's principal), when known. */
  principal: string | null;
}

/**
 * A tool the model may call. Arguments are validated with `schema` before `run` is called
 * (invalid → an `error` result the model sees); `jsonSchema` is what providers are sent.
 */
export interface ToolDefinition<I = unknown, O = unknown> {
  name: string;
  description: string;
  schema: z.ZodType<I>;
  jsonSchema: Record<string, unknown>;
  run(args: I, ctx: ToolRunContext): Promise<O> | O;
}

export const TOOL_NAME_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;

/** Defines a tool from a zod object schema; the JSON Schema for providers is generated from it. */
export function defineTool<S extends z.ZodType, O>(def: {
  name: string;
  description: string;
  schema: S;
  run: (args: z.infer<S>, ctx: ToolRunContext) => Promise<O> | O;
}): ToolDefinition<z.infer<S>, O> {
  if (!TOOL_NAME_PATTERN.test(def.name)) throw new Error(`invalid tool name: ${JSON.stringify(def.name)}`);
  const jsonSchema = z.toJSONSchema(def.schema, { target: 'draft-7', io: 'input' }) as Record<string, unknown>;
  delete jsonSchema.$schema;
  if (jsonSchema.type !== 'object') throw new Error(`tool ${def.name}: the schema must be an object`);
  return { name: def.name, description: def.description, schema: def.schema as z.ZodType<z.infer<S>>, jsonSchema, run: def.run };
}

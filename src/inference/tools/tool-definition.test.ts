import { describe, it, expect } from 'vitest';
import { z } from 'zod';
import { defineTool } from './tool-definition';
import { ToolRegistry } from './tool-registry';

describe('defineTool', () => {
  it('generates the JSON Schema of an object with required/optional fields and descriptions', () => {
    const tool = defineTool({
      name: 'search_docs',
      description: 'Search the docs',
      schema: z.object({
        query: z.string().min(1).describe('What to look for'),
        limit: z.number().int().max(50).optional().describe('How many hits'),
        kind: z.enum(['page', 'code']).default('page').describe('Where to search'),
      }),
      run: ({ query, limit, kind }) => ({ query, limit, kind }),
    });
    expect(tool.name).toBe('search_docs');
    expect(tool.description).toBe('Search the docs');
    const js = tool.jsonSchema as {
      type: string;
      properties: Record<string, Record<string, unknown>>;
      required?: string[];
      $schema?: string;
    };
    expect(js.$schema).toBeUndefined();
    expect(js.type).toBe('object');
    expect(js.required).toEqual(['query']); // optional and defaulted fields are not required from the model
    expect(js.properties.query).toMatchObject({ type: 'string', minLength: 1, description: 'What to look for' });
    expect(js.properties.limit).toMatchObject({ type: 'integer', maximum: 50, description: 'How many hits' });
    expect(js.properties.kind).toMatchObject({ type: 'string', enum: ['page', 'code'], default: 'page', description: 'Where to search' });
  });

  it('rejects bad names and non-object schemas', () => {
    const run = () => null;
    expect(() => defineTool({ name: 'has space', description: '', schema: z.object({}), run })).toThrow(/invalid tool name/);
    expect(() => defineTool({ name: 'x'.repeat(65), description: '', schema: z.object({}), run })).toThrow(/invalid tool name/);
    expect(() => defineTool({ name: 'str', description: '', schema: z.string(), run })).toThrow(/must be an object/);
  });

  it('registers once per name in a registry', () => {
    const t = defineTool({ name: 't', description: '', schema: z.object({}), run: () => 1 });
    const reg = new ToolRegistry([t]);
    expect(() => reg.register(t)).toThrow(/already registered/);
    expect(reg.filter(['other']).names()).toEqual([]);
    expect(reg.clone().names()).toEqual(['t']);
  });
});

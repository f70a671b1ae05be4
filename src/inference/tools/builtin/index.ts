import type { ToolDefinition } from '../tool-definition';
import { calcTool } from './calc';
import { getTimeTool } from './get-time';

export { calcTool, evaluateArithmetic, ArithmeticError, MAX_EXPRESSION_LENGTH, MAX_NESTING_DEPTH } from './calc';
export { getTimeTool, createGetTimeTool, formatInTimeZone, resolveTimeZone, type GetTimeResult } from './get-time';

/** The built-in tools, for a registry: `new ToolRegistry(builtinTools())`. */
export function builtinTools(): ToolDefinition<any, any>[] {
  return [calcTool, getTimeTool];
}

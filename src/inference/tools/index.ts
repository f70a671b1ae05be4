export { defineTool, TOOL_NAME_PATTERN, type ToolDefinition, type ToolRunContext } from './tool-definition';
export { ToolRegistry } from './tool-registry';
export {
  DEFAULT_TOOL_CONFIG,
  type RetryConfig,
  type ToolCall,
  type ToolConfig,
  type ToolErrorPolicy,
  type ToolExecutionContext,
  type ToolExecutor,
  type ToolResult,
} from './tool-executor';
export { DefaultToolExecutor, abortingFailure, isFailure, toolAbortError } from './default-tool-executor';
export { AuthorizingToolExecutor, type AuthorizationDecision, type AuthorizeFn } from './authorizing-tool-executor';
export {
  serializeToolResult,
  strictJsonStringify,
  truncationMarker,
  utf8ByteLength,
  utf8Prefix,
  type SerializedToolResult,
} from './tool-result-json';
export * from './builtin/index';

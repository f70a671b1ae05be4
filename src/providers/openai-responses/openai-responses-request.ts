import type {
  FunctionTool,
  ResponseCreateParamsStreaming,
  ResponseInputItem,
} from 'openai/resources/responses/responses';
import type { EngineCallOptions } from '../../inference/engine';
import type { Turn } from '../../inference/turn';
import { resolveSettings, type ProviderEngineOptions } from '../shared/engine-options';
import { toConversation, toolArgsJson } from '../shared/history';

export const RESPONSES_PROVIDER = 'openai-responses';

/**
 * Turn → Responses request (stateless: `store: false`, the whole history is sent each time):
 * system blocks → `instructions`; user / assistant text → messages; our own reasoning items
 * (with their encrypted content) go back before the calls they led to; tool calls →
 * `function_call` items; tool results → `function_call_output` items, by the provider's call id.
 */
export function buildResponsesRequest(
  opts: ProviderEngineOptions,
  turn: Turn,
  call: Pick<EngineCallOptions, 'tools' | 'settings'>,
): ResponseCreateParamsStreaming {
  const conv = toConversation(turn);
  const input: ResponseInputItem[] = [];
  for (const item of conv.items) {
    if (item.role === 'user') {
      input.push({ type: 'message', role: 'user', content: item.text });
    } else if (item.role === 'tool') {
      for (const r of item.results) input.push({ type: 'function_call_output', call_id: r.callId, output: r.text });
    } else {
      for (const p of item.parts) {
        if (p.kind === 'text') {
          input.push({ type: 'message', role: 'assistant', content: p.text });
        } else if (p.kind === 'tool_call') {
          input.push({ type: 'function_call', call_id: p.callId, name: p.call.name, arguments: toolArgsJson(p.call.args) });
        } else {
          const b = p.block;
          const itemId = b.meta?.itemId;
          // Without `store`, a reasoning item can only go back with its encrypted content.
          if (b.meta?.provider !== RESPONSES_PROVIDER || !b.encryptedContent || typeof itemId !== 'string') continue;
          input.push({
            type: 'reasoning', id: itemId, encrypted_content: b.encryptedContent,
            summary: b.text ? [{ type: 'summary_text', text: b.text }] : [],
          });
        }
      }
    }
  }

  const { temperature, maxOutputTokens } = resolveSettings(opts, call.settings);
  const req: ResponseCreateParamsStreaming = { model: opts.model, input, stream: true, store: false };
  if (conv.system) req.instructions = conv.system;
  if (temperature !== undefined) req.temperature = temperature;
  if (maxOutputTokens !== undefined) req.max_output_tokens = maxOutputTokens;
  if (opts.thinking) {
    req.reasoning = { effort: opts.thinking.effort ?? 'medium', summary: 'auto' };
    req.include = ['reasoning.encrypted_content'];
  }
  if (call.tools.length > 0) {
    req.tools = call.tools.map((t): FunctionTool => ({
      type: 'function', name: t.name, description: t.description, parameters: t.jsonSchema,
      strict: false, // our schemas are not written for strict mode (every property required, no extras)
    }));
    if (call.settings?.toolChoice) req.tool_choice = call.settings.toolChoice;
    if (call.settings?.parallelToolCalls !== undefined) req.parallel_tool_calls = call.settings.parallelToolCalls;
  }
  return req;
}

import type {
  ChatCompletionAssistantMessageParam,
  ChatCompletionCreateParamsStreaming,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';
import type { EngineCallOptions } from '../../inference/engine';
import type { Turn } from '../../inference/turn';
import { resolveSettings, type ProviderEngineOptions } from '../shared/engine-options';
import { toConversation, toolArgsJson } from '../shared/history';

/**
 * Turn → Chat Completions request: system blocks → one `system` message; user → `user`;
 * assistant text and tool calls → one `assistant` message with `tool_calls` (ids as the
 * provider knows them); tool results → `tool` messages with `tool_call_id`. Reasoning blocks are
 * not sent back (the API has no field for them).
 */
export function buildChatRequest(
  opts: ProviderEngineOptions,
  turn: Turn,
  call: Pick<EngineCallOptions, 'tools' | 'settings'>,
): ChatCompletionCreateParamsStreaming {
  const conv = toConversation(turn);
  const messages: ChatCompletionMessageParam[] = [];
  if (conv.system) messages.push({ role: 'system', content: conv.system });
  for (const item of conv.items) {
    if (item.role === 'user') {
      messages.push({ role: 'user', content: item.text });
    } else if (item.role === 'assistant') {
      const text = item.parts.flatMap((p) => (p.kind === 'text' ? [p.text] : [])).join('');
      const toolCalls = item.parts.flatMap((p) => (p.kind === 'tool_call'
        ? [{ id: p.callId, type: 'function' as const, function: { name: p.call.name, arguments: toolArgsJson(p.call.args) } }]
        : []));
      if (!text && toolCalls.length === 0) continue;
      const msg: ChatCompletionAssistantMessageParam = { role: 'assistant', content: text || null };
      if (toolCalls.length) msg.tool_calls = toolCalls;
      messages.push(msg);
    } else {
      for (const r of item.results) messages.push({ role: 'tool', tool_call_id: r.callId, content: r.text });
    }
  }

  const { temperature, maxOutputTokens } = resolveSettings(opts, call.settings);
  const req: ChatCompletionCreateParamsStreaming = {
    model: opts.model,
    messages,
    stream: true,
    stream_options: { include_usage: true },
  };
  if (temperature !== undefined) req.temperature = temperature;
  if (opts.thinking?.effort) req.reasoning_effort = opts.thinking.effort;
  if (maxOutputTokens !== undefined) {
    // OpenAI's own API wants `max_completion_tokens` (reasoning models reject `max_tokens`);
    // OpenAI-compatible servers (Ollama, vLLM, llama.cpp, LM Studio) all read `max_tokens`.
    if (isOpenAIHost(opts.baseURL)) req.max_completion_tokens = maxOutputTokens;
    else req.max_tokens = maxOutputTokens;
  }
  if (call.tools.length > 0) {
    req.tools = call.tools.map((t): ChatCompletionTool => ({
      type: 'function',
      function: { name: t.name, description: t.description, parameters: t.jsonSchema },
    }));
    if (call.settings?.toolChoice) req.tool_choice = call.settings.toolChoice;
    if (call.settings?.parallelToolCalls !== undefined) req.parallel_tool_calls = call.settings.parallelToolCalls;
  }
  return req;
}

function isOpenAIHost(baseURL: string | undefined): boolean {
  if (!baseURL) return true;
  try {
    return /(^|\.)openai\.com$/.test(new URL(baseURL).hostname);
  } catch {
    return false;
  }
}

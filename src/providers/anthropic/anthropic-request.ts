import type {
  ContentBlockParam,
  MessageCreateParamsStreaming,
  MessageParam,
  Tool,
  ToolResultBlockParam,
} from '@anthropic-ai/sdk/resources/messages';
import type { EngineCallOptions } from '../../inference/engine';
import type { Turn } from '../../inference/turn';
import { resolveSettings, type ProviderEngineOptions, type ThinkingOptions } from '../shared/engine-options';
import { toConversation, toolArgsObject, type AssistantItem } from '../shared/history';

/** `max_tokens` is required by the Messages API; this is used when neither the run nor the profile sets it. */
export const DEFAULT_ANTHROPIC_MAX_TOKENS = 4096;

/**
 * Turn → Messages request: system blocks → `system`; user → `user`; assistant text, thinking
 * (our own, with its signature) and tool calls → one `assistant` message of content blocks;
 * tool results → `tool_result` blocks at the start of the next `user` message.
 */
export function buildAnthropicRequest(
  opts: ProviderEngineOptions,
  turn: Turn,
  call: Pick<EngineCallOptions, 'tools' | 'settings'>,
): MessageCreateParamsStreaming {
  const conv = toConversation(turn);
  const messages: MessageParam[] = [];
  const userBlocks = (): ContentBlockParam[] => {
    const last = messages[messages.length - 1];
    if (last && last.role === 'user') {
      if (typeof last.content === 'string') last.content = [{ type: 'text', text: last.content }];
      return last.content as ContentBlockParam[];
    }
    const content: ContentBlockParam[] = [];
    messages.push({ role: 'user', content });
    return content;
  };

  for (const item of conv.items) {
    if (item.role === 'user') {
      const last = messages[messages.length - 1];
      if (last && last.role === 'user') userBlocks().push({ type: 'text', text: item.text });
      else messages.push({ role: 'user', content: item.text });
    } else if (item.role === 'tool') {
      const content = userBlocks();
      for (const r of item.results) {
        const block: ToolResultBlockParam = { type: 'tool_result', tool_use_id: r.callId, content: r.text };
        if (r.isError) block.is_error = true;
        content.push(block);
      }
    } else {
      const content = assistantContent(item);
      if (content.length) messages.push({ role: 'assistant', content });
    }
  }

  // No temperature: the Messages API version the SDK speaks (2026-10-21) rejects sampling
  // parameters (temperature, top_p, top_k) with a 400, and the SDK's types no longer have them.
  const { maxOutputTokens } = resolveSettings(opts, call.settings);
  const thinking = thinkingConfig(opts.thinking);
  let maxTokens = maxOutputTokens ?? DEFAULT_ANTHROPIC_MAX_TOKENS;
  // A fixed thinking budget counts against max_tokens and must be below it.
  if (thinking?.budget !== undefined && maxTokens <= thinking.budget) maxTokens = thinking.budget + DEFAULT_ANTHROPIC_MAX_TOKENS;

  const req: MessageCreateParamsStreaming = { model: opts.model, max_tokens: maxTokens, messages, stream: true };
  if (conv.system) req.system = conv.system;
  if (thinking?.budget !== undefined) {
    req.thinking = { type: 'enabled', budget_tokens: thinking.budget, display: 'summarized' };
  } else if (thinking) {
    req.thinking = { type: 'adaptive', display: 'summarized' };
    req.output_config = { effort: thinking.effort };
  }
  if (call.tools.length > 0) {
    req.tools = call.tools.map((t): Tool => ({
      name: t.name, description: t.description, input_schema: t.jsonSchema as Tool.InputSchema,
    }));
    const choice = call.settings?.toolChoice;
    const noParallel = call.settings?.parallelToolCalls === false;
    if (choice === 'none') req.tool_choice = { type: 'none' };
    else if (choice === 'required') req.tool_choice = { type: 'any', ...(noParallel ? { disable_parallel_tool_use: true } : {}) };
    else if (choice === 'auto' || noParallel) req.tool_choice = { type: 'auto', ...(noParallel ? { disable_parallel_tool_use: true } : {}) };
  }
  return req;
}

function assistantContent(item: AssistantItem): ContentBlockParam[] {
  const content: ContentBlockParam[] = [];
  for (const p of item.parts) {
    if (p.kind === 'text') {
      content.push({ type: 'text', text: p.text });
    } else if (p.kind === 'tool_call') {
      content.push({ type: 'tool_use', id: p.callId, name: p.call.name, input: toolArgsObject(p.call.args) });
    } else {
      // Only our own thinking goes back, verbatim with its signature (the API checks it).
      const b = p.block;
      if (b.meta?.provider !== 'anthropic' || !b.encryptedContent) continue;
      if (b.meta.redacted) content.push({ type: 'redacted_thinking', data: b.encryptedContent });
      else content.push({ type: 'thinking', thinking: b.text, signature: b.encryptedContent });
    }
  }
  return content;
}

/**
 * `thinking.budgetTokens` → extended thinking with that budget (≥ 1024); only an effort →
 * adaptive thinking at that effort (`minimal` → `low`).
 */
function thinkingConfig(t: ThinkingOptions | undefined): { budget?: number; effort: 'low' | 'medium' | 'high' } | null {
  if (!t) return null;
  const effort = t.effort === 'medium' || t.effort === 'high' ? t.effort : 'low';
  if (t.budgetTokens !== undefined) return { budget: Math.max(1024, t.budgetTokens), effort };
  return { effort };
}

import {
  FunctionCallingConfigMode,
  ThinkingLevel,
  type Content,
  type GenerateContentConfig,
  type GenerateContentParameters,
  type Part,
  type ThinkingConfig,
} from '@google/genai';
import type { EngineCallOptions } from '../../inference/engine';
import type { Turn } from '../../inference/turn';
import { resolveSettings, type ProviderEngineOptions, type ThinkingOptions } from '../shared/engine-options';
import { toConversation, toolArgsObject, toolResultObject } from '../shared/history';

/**
 * Turn → `generateContentStream` parameters: system blocks → `systemInstruction`; user →
 * `user` content; assistant text and tool calls → `model` content with `functionCall` parts
 * (their thought signatures sent back, as Gemini requires); tool results → `functionResponse`
 * parts (`{output}` or `{error}`) in a `user` content. Ids go back only for calls Gemini gave an id.
 */
export function buildGeminiRequest(
  opts: ProviderEngineOptions,
  turn: Turn,
  call: Pick<EngineCallOptions, 'tools' | 'settings' | 'signal'>,
): GenerateContentParameters {
  const conv = toConversation(turn);
  const contents: Content[] = [];
  const hadProviderId = new Set<string>();
  for (const item of conv.items) {
    if (item.role === 'user') {
      contents.push({ role: 'user', parts: [{ text: item.text }] });
    } else if (item.role === 'tool') {
      contents.push({
        role: 'user',
        parts: item.results.map((r): Part => ({
          functionResponse: {
            ...(hadProviderId.has(r.block.id) ? { id: r.callId } : {}),
            name: r.name ?? 'unknown',
            response: toolResultObject(r),
          },
        })),
      });
    } else {
      const parts: Part[] = [];
      for (const p of item.parts) {
        if (p.kind === 'text') {
          parts.push({ text: p.text, ...signature(p.meta) });
        } else if (p.kind === 'tool_call') {
          if (p.call.providerCallId) hadProviderId.add(p.call.id);
          parts.push({
            functionCall: { ...(p.call.providerCallId ? { id: p.callId } : {}), name: p.call.name, args: toolArgsObject(p.call.args) },
            ...signature(p.call.meta),
          });
        }
        // Thought summaries are not sent back: the signatures on the parts carry the model's state.
      }
      if (parts.length) contents.push({ role: 'model', parts });
    }
  }

  const { temperature, maxOutputTokens } = resolveSettings(opts, call.settings);
  const config: GenerateContentConfig = {
    abortSignal: call.signal,
    // The SDK must not call tools itself nor re-request behind our back.
    automaticFunctionCalling: { disable: true },
    automaticContinuation: false,
  };
  if (conv.system) config.systemInstruction = conv.system;
  if (temperature !== undefined) config.temperature = temperature;
  if (maxOutputTokens !== undefined) config.maxOutputTokens = maxOutputTokens;
  const thinking = thinkingConfig(opts.thinking);
  if (thinking) config.thinkingConfig = thinking;
  if (call.tools.length > 0) {
    config.tools = [{
      functionDeclarations: call.tools.map((t) => ({ name: t.name, description: t.description, parametersJsonSchema: t.jsonSchema })),
    }];
    const mode = call.settings?.toolChoice;
    if (mode) {
      config.toolConfig = {
        functionCallingConfig: {
          mode: mode === 'none' ? FunctionCallingConfigMode.NONE : mode === 'required' ? FunctionCallingConfigMode.ANY : FunctionCallingConfigMode.AUTO,
        },
      };
    }
  }
  return { model: opts.model, contents, config };
}

function signature(meta: Record<string, unknown> | undefined): { thoughtSignature?: string } {
  const s = meta?.thoughtSignature;
  return typeof s === 'string' && s ? { thoughtSignature: s } : {};
}

/** A token budget when given (`thinkingBudget`), else a level from the effort; thoughts always included. */
function thinkingConfig(t: ThinkingOptions | undefined): ThinkingConfig | null {
  if (!t) return null;
  if (t.budgetTokens !== undefined) return { includeThoughts: true, thinkingBudget: t.budgetTokens };
  const level = { minimal: ThinkingLevel.MINIMAL, low: ThinkingLevel.LOW, medium: ThinkingLevel.MEDIUM, high: ThinkingLevel.HIGH }[t.effort ?? 'low'];
  return { includeThoughts: true, thinkingLevel: level };
}

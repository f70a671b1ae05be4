import { describe, expect, it } from 'vitest';
import { blocks, newTurn } from '../../inference/turn';
import { describeProviderConformance, useReplay } from '../testing/conformance';
import { openaiChatWire } from '../testing/fixtures/openai-chat';
import { runEngine } from '../testing/harness';

describeProviderConformance(openaiChatWire);

describe('openai chat: request format', () => {
  const env = useReplay(openaiChatWire);

  it('sends history in the Chat Completions format (tool_calls + tool messages, provider ids)', async () => {
    env.server.push(env.fixture('exact', { chunks: openaiChatWire.text(['ok'], { inputTokens: 1, outputTokens: 1, cachedTokens: 0 }) }, (_s, req) => {
      expect(req.body.messages).toEqual([
        { role: 'system', content: 'sys' },
        { role: 'user', content: 'q' },
        {
          role: 'assistant', content: 'checking',
          tool_calls: [{ id: 'call_p1', type: 'function', function: { name: 'calc', arguments: '{"expression":"1+1"}' } }],
        },
        { role: 'tool', tool_call_id: 'call_p1', content: '2' },
      ]);
      expect(req.body.tools[0]).toEqual({
        type: 'function',
        function: { name: 'calc', description: 'Evaluates an arithmetic expression.', parameters: expect.objectContaining({ type: 'object' }) },
      });
      // A compatible server (not api.openai.com) gets `max_tokens`.
      expect(req.body.max_tokens).toBe(50);
      expect(req.body.max_completion_tokens).toBeUndefined();
    }));
    const turn = newTurn([
      blocks.system('sys'), blocks.user('q'), blocks.llmText('checking'),
      blocks.toolCall('c-ours', 'calc', { expression: '1+1' }, 'call_p1'), blocks.toolUse('c-ours', 'completed', 2, null),
    ]);
    const r = await runEngine(env.engine({ maxOutputTokens: 50 }), turn);
    expect(r.error).toBeNull();
  });
});

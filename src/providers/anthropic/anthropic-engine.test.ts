import { describe, expect, it } from 'vitest';
import { blocks, newTurn, type ReasoningBlock } from '../../inference/turn';
import { describeProviderConformance, useReplay } from '../testing/conformance';
import { ANTHROPIC_SIGNATURE, anthropicWire } from '../testing/fixtures/anthropic';
import { runEngine } from '../testing/harness';

describeProviderConformance(anthropicWire);

const USAGE = { inputTokens: 10, outputTokens: 5, cachedTokens: 0 };

describe('anthropic: request format', () => {
  const env = useReplay(anthropicWire);

  it('sends tool_use / tool_result blocks with provider ids, and our thinking back with its signature', async () => {
    const thinking = { ...blocks.reasoning('I should use calc.'), encryptedContent: ANTHROPIC_SIGNATURE, meta: { provider: 'anthropic' } } as ReasoningBlock;
    const foreign = { ...blocks.reasoning('from another provider'), encryptedContent: 'xyz', meta: { provider: 'gemini' } } as ReasoningBlock;
    env.server.push(env.fixture('exact', { chunks: anthropicWire.text(['ok'], USAGE) }, (_s, req) => {
      expect(req.body.system).toBe('sys');
      expect(req.body.messages).toEqual([
        { role: 'user', content: 'q' },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'I should use calc.', signature: ANTHROPIC_SIGNATURE },
            { type: 'text', text: 'checking' },
            { type: 'tool_use', id: 'toolu_p1', name: 'calc', input: { expression: '1+1' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_p1', content: '2' },
            { type: 'text', text: 'and now?' },
          ],
        },
      ]);
      expect(req.body.tools[0]).toEqual({ name: 'calc', description: 'Evaluates an arithmetic expression.', input_schema: expect.objectContaining({ type: 'object' }) });
      expect(req.body.max_tokens).toBe(4096);
    }));
    const turn = newTurn([
      blocks.system('sys'), blocks.user('q'), foreign, thinking, blocks.llmText('checking'),
      blocks.toolCall('c-ours', 'calc', { expression: '1+1' }, 'toolu_p1'), blocks.toolUse('c-ours', 'completed', 2, null),
      blocks.user('and now?'),
    ]);
    const r = await runEngine(env.engine(), turn);
    expect(r.error).toBeNull();
  });

  it('keeps the thinking signature on the reasoning block (needed on the next request)', async () => {
    env.server.push(env.fixture('thinking', { chunks: anthropicWire.thinking(['hmm'], ['ok'], USAGE) }));
    const r = await runEngine(env.engine({ thinking: { budgetTokens: 2048 } }), newTurn([blocks.user('x')]));
    expect(r.error).toBeNull();
    expect(r.turn!.blocks[1]).toMatchObject({ kind: 'reasoning', text: 'hmm', encryptedContent: ANTHROPIC_SIGNATURE, meta: { provider: 'anthropic' } });
  });

  it('529 overloaded → provider_overloaded', async () => {
    env.server.push({ name: '529', ...anthropicWire.error(529, 'overloaded') });
    const r = await runEngine(env.engine({ maxRetries: 0 }), newTurn([blocks.user('x')]));
    expect(r.error).toMatchObject({ code: 'provider_overloaded' });
  });
});

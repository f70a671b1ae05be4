import { describe, expect, it } from 'vitest';
import { blocks, newTurn, type ReasoningBlock } from '../../inference/turn';
import { describeProviderConformance, useReplay } from '../testing/conformance';
import { openaiResponsesWire, RESPONSES_ENCRYPTED } from '../testing/fixtures/openai-responses';
import { runEngine } from '../testing/harness';
import { sse } from '../testing/replay-server';

describeProviderConformance(openaiResponsesWire);

const USAGE = { inputTokens: 10, outputTokens: 5, cachedTokens: 0 };

describe('openai responses: request format and stream details', () => {
  const env = useReplay(openaiResponsesWire);

  it('sends items: messages, our reasoning (encrypted) before its call, function_call + function_call_output', async () => {
    const reasoning = { ...blocks.reasoning('Use calc.'), encryptedContent: RESPONSES_ENCRYPTED, meta: { provider: 'openai-responses', itemId: 'rs_1' } } as ReasoningBlock;
    env.server.push(env.fixture('exact', { chunks: openaiResponsesWire.text(['ok'], USAGE) }, (_s, req) => {
      expect(req.body.instructions).toBe('sys');
      expect(req.body.input).toEqual([
        { type: 'message', role: 'user', content: 'q' },
        { type: 'reasoning', id: 'rs_1', encrypted_content: RESPONSES_ENCRYPTED, summary: [{ type: 'summary_text', text: 'Use calc.' }] },
        { type: 'message', role: 'assistant', content: 'checking' },
        { type: 'function_call', call_id: 'call_p1', name: 'calc', arguments: '{"expression":"1+1"}' },
        { type: 'function_call_output', call_id: 'call_p1', output: '2' },
      ]);
      expect(req.body.tools[0]).toEqual({
        type: 'function', name: 'calc', description: 'Evaluates an arithmetic expression.', strict: false,
        parameters: expect.objectContaining({ type: 'object' }),
      });
      expect(req.body.reasoning).toBeUndefined();
    }));
    const turn = newTurn([
      blocks.system('sys'), blocks.user('q'), reasoning, blocks.llmText('checking'),
      blocks.toolCall('c-ours', 'calc', { expression: '1+1' }, 'call_p1'), blocks.toolUse('c-ours', 'completed', 2, null),
    ]);
    const r = await runEngine(env.engine(), turn);
    expect(r.error).toBeNull();
  });

  it('keeps the reasoning item id and encrypted content on the reasoning block', async () => {
    env.server.push(env.fixture('thinking', { chunks: openaiResponsesWire.thinking(['hmm'], ['ok'], USAGE) }));
    const r = await runEngine(env.engine({ thinking: { effort: 'low' } }), newTurn([blocks.user('x')]));
    expect(r.error).toBeNull();
    expect(r.turn!.blocks[1]).toMatchObject({ kind: 'reasoning', text: 'hmm', encryptedContent: RESPONSES_ENCRYPTED, meta: { itemId: expect.stringMatching(/^rs_/) } });
  });

  it('response.incomplete (max_output_tokens) → stop reason length', async () => {
    const chunks = openaiResponsesWire.text(['cut'], USAGE);
    const last = JSON.parse(chunks.pop()!.split('data: ')[1]!);
    last.type = 'response.incomplete';
    last.response.status = 'incomplete';
    last.response.incomplete_details = { reason: 'max_output_tokens' };
    env.server.push(env.fixture('incomplete', { chunks: [...chunks, sse(last, 'response.incomplete')] }));
    const r = await runEngine(env.engine(), newTurn([blocks.user('x')]));
    expect(r.error).toBeNull();
    expect(r.turn!.metadata.stopReason).toBe('length');
  });

  it('an error event mid-stream with context_length_exceeded → context_length_exceeded', async () => {
    env.server.push(env.fixture('ctx', {
      chunks: [sse({ type: 'error', sequence_number: 0, code: 'context_length_exceeded', message: 'Your input exceeds the context window of this model.', param: 'input' }, 'error')],
    }));
    const r = await runEngine(env.engine(), newTurn([blocks.user('x')]));
    expect(r.error).toMatchObject({ code: 'context_length_exceeded' });
    expect(env.server.requests).toHaveLength(1);
  });
});

import { describe, expect, it } from 'vitest';
import { blocks, newTurn } from '../../inference/turn';
import { describeProviderConformance, useReplay } from '../testing/conformance';
import { GEMINI_SIGNATURE, geminiKeyInvalid, geminiWire } from '../testing/fixtures/gemini';
import { runEngine } from '../testing/harness';

describeProviderConformance(geminiWire);

const USAGE = { inputTokens: 10, outputTokens: 5, cachedTokens: 0 };

describe('gemini: request format and stream details', () => {
  const env = useReplay(geminiWire);

  it('sends contents: functionCall parts with their thought signature, functionResponse parts by name', async () => {
    env.server.push(env.fixture('exact', { chunks: geminiWire.text(['ok'], USAGE) }, (_s, req) => {
      expect(req.body.systemInstruction.parts).toEqual([{ text: 'sys' }]);
      expect(req.body.contents).toEqual([
        { role: 'user', parts: [{ text: 'q' }] },
        {
          role: 'model',
          parts: [
            { text: 'checking' },
            { functionCall: { name: 'calc', args: { expression: '1+1' } }, thoughtSignature: GEMINI_SIGNATURE },
          ],
        },
        { role: 'user', parts: [{ functionResponse: { name: 'calc', response: { output: 2 } } }] },
      ]);
      expect(req.body.tools).toEqual([{
        functionDeclarations: [
          { name: 'calc', description: 'Evaluates an arithmetic expression.', parametersJsonSchema: expect.objectContaining({ type: 'object' }) },
          { name: 'get_time', description: 'Returns the current time in a time zone.', parametersJsonSchema: expect.objectContaining({ type: 'object' }) },
        ],
      }]);
    }));
    const call = { ...blocks.toolCall('call_ours', 'calc', { expression: '1+1' }, null), meta: { thoughtSignature: GEMINI_SIGNATURE } };
    const turn = newTurn([blocks.system('sys'), blocks.user('q'), blocks.llmText('checking'), call, blocks.toolUse('call_ours', 'completed', 2, null)]);
    const r = await runEngine(env.engine(), turn);
    expect(r.error).toBeNull();
  });

  it('keeps the thought signature of a function call on its tool_call block', async () => {
    env.server.push(env.fixture('sig', { chunks: geminiWire.toolCalls([{ id: '', name: 'calc', args: '{"expression":"1"}' }], { usage: USAGE }) }));
    const r = await runEngine(env.engine(), newTurn([blocks.user('x')]));
    expect(r.error).toBeNull();
    expect(r.turn!.blocks[1]).toMatchObject({ kind: 'tool_call', providerCallId: null, meta: { thoughtSignature: GEMINI_SIGNATURE } });
  });

  it('400 API_KEY_INVALID (how Gemini reports a bad key) → provider_auth', async () => {
    env.server.push({ name: 'bad key', ...geminiKeyInvalid() });
    const r = await runEngine(env.engine(), newTurn([blocks.user('x')]));
    expect(r.error).toMatchObject({ code: 'provider_auth' });
    expect(env.server.requests).toHaveLength(1);
  });
});

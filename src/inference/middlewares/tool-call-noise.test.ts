import { describe, expect, it } from 'vitest';
import { compose } from '../middleware';
import { blocks, newTurn, type LlmTextBlock } from '../turn';
import { stripToolCallNoise, stripToolCallNoiseFromNewBlocks, toolCallNoiseMiddleware } from './tool-call-noise';
import { fakeEngine, ids, testOpts } from './test-utils';

describe('stripToolCallNoise', () => {
  it('removes Hermes-style <tool_call> JSON markup', () => {
    const text = 'Let me compute that.\n<tool_call>\n{"name": "calc", "arguments": {"expr": "2+2"}}\n</tool_call>';
    expect(stripToolCallNoise(text)).toBe('Let me compute that.');
  });

  it('removes <function=…> markup (with and without a <tool_call> wrapper)', () => {
    expect(stripToolCallNoise('Sure. <function=calc>{"expr":"1+1"}</function> Done.')).toBe('Sure.  Done.');
    const qwen = 'Checking.\n<tool_call>\n<function=calc>\n<parameter=expr>\n2*3\n</parameter>\n</function>\n</tool_call>\n\n\n\nThen more.';
    expect(stripToolCallNoise(qwen)).toBe('Checking.\n\nThen more.');
  });

  it('removes fenced ```tool_call blocks', () => {
    const text = 'Calling:\n```tool_call\n{"name":"calc","arguments":{"expr":"3"}}\n```\nok';
    expect(stripToolCallNoise(text)).toBe('Calling:\n\nok');
  });

  it('removes markup cut off before its closing tag at the end of the text', () => {
    expect(stripToolCallNoise('Working on it <tool_call>{"name": "calc", "argu')).toBe('Working on it');
    expect(stripToolCallNoise('x <|tool_call_start|>[calc(expr="1")]')).toBe('x');
  });

  it('leaves ordinary prose and code alone (same string back)', () => {
    const prose = 'The <tool_call> tag is used by Hermes models; see ```ts\nconst x = 1;\n``` for code.';
    expect(stripToolCallNoise(prose)).toBe(prose);
    expect(stripToolCallNoise('')).toBe('');
  });
});

describe('toolCallNoiseMiddleware', () => {
  it('strips only the new llm_text blocks and removes those left empty', async () => {
    const noisyOld = blocks.llmText('old <tool_call>{"name":"x"}</tool_call>', 'old');
    const engine = fakeEngine(
      blocks.llmText('<tool_call>{"name":"calc","arguments":{}}</tool_call>', 'empty-after'),
      blocks.toolCall('c1', 'calc', {}),
      blocks.llmText('Answer: 4 <function=calc>{}</function>', 'kept'),
      blocks.reasoning('thinking <tool_call>{"a":1}</tool_call>', 'r'),
    );
    const h = compose([toolCallNoiseMiddleware()], engine);
    const out = await h(newTurn([blocks.user('q', 'u'), noisyOld]), testOpts());
    expect(ids(out)).toEqual(['u', 'old', 'c1', 'kept', 'r']);
    expect(out.blocks[1]).toBe(noisyOld); // history untouched
    const kept = out.blocks[3] as LlmTextBlock;
    expect(kept.text).toBe('Answer: 4');
    expect(kept.meta).toEqual({ toolCallNoiseStripped: true });
    expect(out.blocks[4]).toMatchObject({ kind: 'reasoning', text: 'thinking <tool_call>{"a":1}</tool_call>' });
  });

  it('returns the engine turn unchanged when there is no noise', async () => {
    const input = newTurn([blocks.user('q')]);
    const result = newTurn([...input.blocks, blocks.llmText('plain answer')], input.id);
    expect(stripToolCallNoiseFromNewBlocks(input, result)).toBe(result);
  });
});

import { describe, expect, it } from 'vitest';
import { compose } from '../middleware';
import { blocks, newTurn, type SystemBlock } from '../turn';
import { applySystemPrompt, SYSTEM_PROMPT_TAG, systemPromptMiddleware } from './system-prompt';
import { fakeEngine, kinds, testOpts } from './test-utils';

describe('applySystemPrompt', () => {
  it('inserts a tagged system block at index 0 when there is none', () => {
    const t = newTurn([blocks.user('hi')]);
    const out = applySystemPrompt(t, 'Be brief.');
    expect(kinds(out)).toEqual(['system', 'user']);
    const sys = out.blocks[0] as SystemBlock;
    expect(sys.text).toBe('Be brief.');
    expect(sys.meta).toEqual({ middleware: SYSTEM_PROMPT_TAG });
    expect(t.blocks).toHaveLength(1); // input untouched
  });

  it('replaces the text of the first system block only, tagging it', () => {
    const first = blocks.system('old', { source: 'profile' });
    const second = blocks.system('other');
    const t = newTurn([blocks.user('u0'), first, second, blocks.user('hi')]);
    const out = applySystemPrompt(t, 'new');
    expect(out.blocks).toHaveLength(4);
    expect(out.blocks[1]).toEqual({ ...first, text: 'new', meta: { source: 'profile', middleware: 'systemprompt' } });
    expect(out.blocks[2]).toBe(second);
    expect(first.text).toBe('old');
  });

  it('does not tag (or copy) a system block whose text is already the prompt', () => {
    const sys = blocks.system('same');
    const t = newTurn([sys, blocks.user('hi')]);
    const out = applySystemPrompt(t, 'same');
    expect(out).toBe(t);
    expect(out.blocks[0]!.meta).toBeUndefined();
  });

  it('is a no-op for an empty or blank prompt', () => {
    const t = newTurn([blocks.system('keep'), blocks.user('hi')]);
    expect(applySystemPrompt(t, '')).toBe(t);
    expect(applySystemPrompt(t, '  \n')).toBe(t);
    const bare = newTurn([blocks.user('hi')]);
    expect(applySystemPrompt(bare, '')).toBe(bare);
  });

  it('is idempotent: applying twice never duplicates the system block', () => {
    const once = applySystemPrompt(newTurn([blocks.user('hi')]), 'P');
    const twice = applySystemPrompt(once, 'P');
    expect(twice).toBe(once);
    expect(twice.blocks.filter((b) => b.kind === 'system')).toHaveLength(1);
  });
});

describe('systemPromptMiddleware', () => {
  it('gives the engine the prompt and keeps one system block over several calls (tool loop)', async () => {
    const engine = fakeEngine(blocks.llmText('answer'));
    const h = compose([systemPromptMiddleware('You are terse.')], engine);
    const first = await h(newTurn([blocks.user('q')]), testOpts());
    const second = await h(first, testOpts());
    expect(engine.seen[0]!.blocks[0]).toMatchObject({ kind: 'system', text: 'You are terse.' });
    expect(kinds(second)).toEqual(['system', 'user', 'llm_text', 'llm_text']);
  });

  it('the same middleware listed twice still yields one system block', async () => {
    const engine = fakeEngine();
    const h = compose([systemPromptMiddleware('X'), systemPromptMiddleware('X')], engine);
    const out = await h(newTurn([blocks.user('q')]), testOpts());
    expect(kinds(out)).toEqual(['system', 'user']);
  });
});

import { describe, expect, it } from 'vitest';
import { applyFrames } from './apply-frames';
import { visiblePending, type PendingPrompt } from './pending';
import { FrameSeq } from './test-frames';
import { emptyState } from './types';

describe('visiblePending', () => {
  it('shows a prompt until the log has it, started or queued', () => {
    const base = { convId: 'c1', text: 'x', error: null };
    const pending: PendingPrompt[] = [
      { ...base, localId: 'a', status: 'sending', turnId: null },
      { ...base, localId: 'b', status: 'accepted', turnId: 't1' },
      { ...base, localId: 'c', status: 'accepted', turnId: 't2' },
      { ...base, localId: 'd', status: 'failed', turnId: null, error: 'nope' },
      { ...base, localId: 'e', convId: 'other', status: 'sending', turnId: null },
    ];
    const f = new FrameSeq();
    expect(visiblePending(pending, emptyState('c1')).map((p) => p.localId)).toEqual(['a', 'b', 'c', 'd']);
    f.add('chat.message', 'user-t1', { schemaVersion: 1, role: 'user', content: 'x', turnId: 't1' });
    f.add('run.queued', 'queue:t2', { turnId: 't2', idempotencyKey: null, prompt: 'x', status: 'queued', reason: null, position: 1, depth: 1 });
    const s = applyFrames(emptyState('c1'), f.frames);
    expect(visiblePending(pending, s).map((p) => p.localId)).toEqual(['a', 'd']);
  });
});

import { describe, expect, it } from 'vitest';
import type { TimelineEntity } from '../protocol';
import { applyFrame, applyFrames, seqCheck } from './apply-frames';
import { buildRows } from './rows';
import { fromSnapshot } from './snapshot';
import { FrameSeq } from './test-frames';
import { emptyState, type ChatState } from './types';

const NOW = 1_700_000_000_000;
const oneByOne = (s: ChatState, f: FrameSeq) => f.frames.reduce((acc, ev) => applyFrame(acc, ev, NOW), s);

describe('applyFrames', () => {
  it('builds user message, tool call + result and the streamed answer', () => {
    const f = new FrameSeq();
    f.calcRun('t1', 'i1');
    const s = applyFrames(emptyState('c1'), f.frames, NOW);
    expect(s.version).toBe(13);
    expect(s.running).toBeNull();
    expect(s.order).toEqual(['user-t1', 'i1', 'i1-m1', 'i1-t1', 'i1-t1:result', 'i1-m2']);
    expect(s.entities['i1-m2']!.props).toEqual({ role: 'assistant', content: 'The answer is 19.', streaming: false, turnId: 't1' });
    expect(s.entities['i1-t1']!.props).toMatchObject({ name: 'calc', status: 'completed', done: true });
    expect(s.entities['i1-t1:result']!.props).toMatchObject({ toolCallId: 'i1-t1', result: 19, status: 'completed', durationMs: 3 });
    expect(buildRows(s).map((r) => r.type)).toEqual(['user', 'tool', 'assistant']);
  });

  it('one frame at a time and in any batches gives the same state', () => {
    const f = new FrameSeq();
    f.calcRun('t1', 'i1');
    f.calcRun('t2', 'i2', 'again');
    const all = applyFrames(emptyState('c1'), f.frames, NOW);
    expect(oneByOne(emptyState('c1'), f)).toEqual(all);
    for (let cut = 1; cut < f.frames.length; cut += 3) {
      const a = applyFrames(emptyState('c1'), f.frames.slice(0, cut), NOW);
      expect(applyFrames(a, f.frames.slice(cut), NOW)).toEqual(all);
    }
  });

  it('ignores frames at or below the version (duplicates of a replay)', () => {
    const f = new FrameSeq();
    f.calcRun('t1', 'i1');
    const s = applyFrames(emptyState('c1'), f.frames, NOW);
    expect(applyFrames(s, f.frames, NOW)).toBe(s);
    const half = applyFrames(emptyState('c1'), f.frames.slice(0, 10), NOW);
    // a reconnect replays from an older point: overlapping frames change nothing twice
    expect(applyFrames(half, f.frames.slice(5), NOW)).toEqual(s);
    expect(s.entities['i1-m2']!.props.content).toBe('The answer is 19.');
  });

  it('never mutates its input and keeps untouched entities identical', () => {
    const f = new FrameSeq();
    f.calcRun('t1', 'i1');
    const s1 = applyFrames(emptyState('c1'), f.frames, NOW);
    const frozen = JSON.stringify(s1);
    f.add('chat.message', 'user-t2', { schemaVersion: 1, role: 'user', content: 'hi', turnId: 't2' });
    const s2 = applyFrames(s1, f.frames, NOW);
    expect(JSON.stringify(s1)).toBe(frozen);
    expect(s2.entities['i1-m2']).toBe(s1.entities['i1-m2']);
    expect(s2.order).toHaveLength(s1.order.length + 1);
  });

  it('concatenates deltas and tags messages with the running turn', () => {
    const f = new FrameSeq();
    f.add('run.start', 'i1', { inferenceId: 'i1', turnId: 't1', sessionId: 'c1', runtimeKey: 'demo' });
    f.add('llm.thinking.start', 'm:thinking', { id: 'm:thinking', role: 'thinking' });
    f.add('llm.thinking.delta', 'm:thinking', { id: 'm:thinking', delta: 'hmm', offset: 0 });
    f.add('llm.start', 'm', { id: 'm', role: 'assistant' });
    for (let i = 1; i <= 5; i++) f.add('llm.delta', 'm', { id: 'm', delta: ` w${i}`, offset: 0 });
    const s = applyFrames(emptyState('c1'), f.frames, NOW);
    expect(s.running).toMatchObject({ inferenceId: 'i1', turnId: 't1' });
    expect(s.entities.m!.props).toEqual({ role: 'assistant', content: ' w1 w2 w3 w4 w5', streaming: true, turnId: 't1' });
    expect(s.entities['m:thinking']!.props).toMatchObject({ role: 'thinking', content: 'hmm', streaming: true });
    expect(buildRows(s).map((r) => r.type)).toEqual(['thinking', 'assistant']);
  });

  it('keeps the queue in order and removes a prompt when it starts or is dropped', () => {
    const f = new FrameSeq();
    const q = (turnId: string, status: 'queued' | 'started' | 'dropped') =>
      f.add('run.queued', `queue:${turnId}`, { turnId, idempotencyKey: null, prompt: `p-${turnId}`, status, reason: null, position: 1, depth: 1 });
    q('a', 'queued');
    q('b', 'queued');
    q('c', 'queued');
    let s = applyFrames(emptyState('c1'), f.frames, NOW);
    expect(s.queue.map((x) => [x.turnId, x.position])).toEqual([['a', 1], ['b', 2], ['c', 3]]);
    q('a', 'started');
    q('c', 'dropped');
    s = applyFrames(s, f.frames, NOW);
    expect(s.queue).toEqual([{ turnId: 'b', idempotencyKey: null, prompt: 'p-b', position: 1 }]);
  });

  it('run.end clears `running` only for its own inference and shows errors after the output', () => {
    const f = new FrameSeq();
    f.add('chat.message', 'user-t1', { schemaVersion: 1, role: 'user', content: '/error provider_rate_limited', turnId: 't1' });
    f.add('run.start', 'i1', { inferenceId: 'i1', turnId: 't1', sessionId: 'c1', runtimeKey: 'demo' });
    f.add('run.end', 'i0', { inferenceId: 'i0', turnId: 't0', status: 'cancelled', reason: 'user_cancel', error: null, usage: null });
    let s = applyFrames(emptyState('c1'), f.frames, NOW);
    expect(s.running?.inferenceId).toBe('i1');
    f.frames.pop();
    f.seq--;
    s = applyFrames(emptyState('c1'), f.frames, NOW);
    f.add('log', 'log-1', { id: 'log-1', level: 'warn', message: 'retrying', fields: null });
    f.add('log', 'log-2', { id: 'log-2', level: 'error', message: 'slow down', fields: null });
    f.add('run.end', 'i1', {
      inferenceId: 'i1', turnId: 't1', status: 'error', reason: 'error',
      error: { code: 'provider_rate_limited', message: 'slow down' }, usage: null,
    });
    s = applyFrames(s, f.frames, NOW);
    expect(s.running).toBeNull();
    const rows = buildRows(s);
    expect(rows.map((r) => r.type)).toEqual(['user', 'log', 'run-end']);
    expect(rows[2]).toMatchObject({ type: 'run-end', id: 'i1', status: 'error', error: { code: 'provider_rate_limited', message: 'slow down' } });
  });

  it('tracks pauses and step mode', () => {
    const f = new FrameSeq();
    f.add('step.mode', 'step:c1', { enabled: true });
    f.add('debugger.pause', 'p1', {
      id: 'p1', pauseId: 'p1', phase: 'approval', summary: 'run calc?', deadlineMs: NOW + 1000,
      extra: { pendingTools: [{ id: 't1', name: 'calc', input: {} }] },
    });
    let s = applyFrames(emptyState('c1'), f.frames, NOW);
    expect(s.stepMode).toBe(true);
    expect(s.openPauses).toEqual([{ pauseId: 'p1', phase: 'approval', deadlineMs: NOW + 1000, toolCallIds: ['t1'], pendingTools: [{ id: 't1', name: 'calc', input: {} }] }]);
    f.add('tool.start', 't1', { id: 't1', name: 'calc', input: {}, providerCallId: null });
    s = applyFrames(s, f.frames, NOW);
    expect(buildRows(s)[1]).toMatchObject({ type: 'tool', status: 'running', waiting: true });
    f.add('debugger.resume', 'p1', { pauseId: 'p1', resolution: 'approved', effect: 'continue', toolCallIds: ['t1'], by: 'me' });
    s = applyFrames(s, f.frames, NOW);
    expect(s.openPauses).toEqual([]);
    expect(buildRows(s)[0]).toMatchObject({ type: 'pause', resolution: 'approved' });
    expect(buildRows(s)[1]).toMatchObject({ type: 'tool', waiting: false });
  });

  it('hydration then live frames equals live from the start', () => {
    const f = new FrameSeq();
    f.calcRun('t1', 'i1');
    const live = applyFrames(emptyState('c1'), f.frames, NOW);
    // what /api/timeline returns for that state (entity times from the server)
    const hydrated = fromSnapshot({
      convId: 'c1', epoch: 'e1', version: live.version, serverTimeMs: NOW,
      conversation: { stepMode: false, running: null, queue: [], openPauses: [] },
      entities: [...live.order].reverse().map((id) => {
        const e = live.entities[id]!;
        return { ...e, kind: e.kind as TimelineEntity["kind"], props: { ...e.props } };
      }),
    });
    expect(hydrated.order).toEqual(live.order);
    f.calcRun('t2', 'i2', 'more');
    const a = buildRows(applyFrames(live, f.frames, NOW));
    const b = buildRows(applyFrames(hydrated, f.frames, NOW));
    // the server projects durationMs, so a hydrated tab shows the same exact durations
    expect(b).toEqual(a);
  });
});

describe('seqCheck', () => {
  it('classifies a frame against the last applied seq', () => {
    expect(seqCheck(4, 5)).toBe('apply');
    expect(seqCheck(4, 4)).toBe('duplicate');
    expect(seqCheck(4, 1)).toBe('duplicate');
    expect(seqCheck(4, 6)).toBe('gap');
    expect(seqCheck(0, 1)).toBe('apply');
  });
});

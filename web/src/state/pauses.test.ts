import { describe, expect, it } from 'vitest';
// The server's own projection (test only: the UI bundle imports nothing from src/ but the protocol),
// so "hydrated" below is exactly what `/api/timeline` would return for these frames.
import { TimelineProjection } from '../../../src/webchat/timeline-projection';
import { applyFrames } from './apply-frames';
import { actionsFor, compactArgs, countdownText, primaryAction, resolutionText, secondsLeft, timeoutText } from './pauses';
import { buildRows, type Row } from './rows';
import { fromSnapshot } from './snapshot';
import { FrameSeq } from './test-frames';
import { emptyState, type ChatState } from './types';

const NOW = 1_700_000_000_000;
type PauseRow = Extract<Row, { type: 'pause' }>;
const pauseRows = (s: ChatState): PauseRow[] => buildRows(s).filter((r): r is PauseRow => r.type === 'pause');

/** Live (every frame applied) and hydrated (server projection → snapshot) state after each prefix. */
function bothWays(f: FrameSeq, upTo: number): { live: ChatState; hydrated: ChatState } {
  const frames = f.frames.slice(0, upTo);
  const live = applyFrames(emptyState('c1'), frames, NOW);
  const proj = new TimelineProjection();
  for (const ev of frames) proj.apply(ev, NOW);
  return { live, hydrated: fromSnapshot(proj.snapshot('c1', 'e1')) };
}

/** Step mode, `What is 2+3?`: pause after_inference (calc held), approve, calc runs, pause after_tools, continue, answer. */
function stepRun(f: FrameSeq): void {
  f.add('step.mode', 'step:c1', { enabled: true });
  f.add('chat.message', 'user-t1', { schemaVersion: 1, role: 'user', content: 'What is 2+3?', turnId: 't1' });
  f.add('run.start', 'i1', { inferenceId: 'i1', turnId: 't1', sessionId: 'c1', runtimeKey: 'demo' });
  f.add('llm.start', 'i1-m1', { id: 'i1-m1', role: 'assistant' });
  f.add('llm.final', 'i1-m1', { id: 'i1-m1', text: 'Let me calculate that.' });
  f.add('tool.start', 'tc1', { id: 'tc1', name: 'calc', input: { expression: '2+3' }, providerCallId: null });
  f.add('debugger.pause', 'p1', {
    id: 'p1', pauseId: 'p1', phase: 'after_inference', summary: 'Review next action', deadlineMs: NOW + 30_000,
    extra: { pendingTools: [{ id: 'tc1', name: 'calc', input: { expression: '2+3' } }] },
  });
  f.add('debugger.resume', 'p1', { pauseId: 'p1', resolution: 'approved', effect: 'continue', toolCallIds: [], by: 'operator' });
  f.add('tool.delta', 'tc1', { id: 'tc1', patch: { exec: true, input: { expression: '2+3' } } });
  f.add('tool.result', 'tc1', { id: 'tc1', status: 'completed', result: { expression: '2+3', result: 5 }, error: null, durationMs: 1, truncated: false, customKind: null });
  f.add('tool.done', 'tc1', { id: 'tc1' });
  f.add('debugger.pause', 'p2', { id: 'p2', pauseId: 'p2', phase: 'after_tools', summary: 'Review tool results', deadlineMs: NOW + 30_000, extra: { pendingTools: [] } });
  f.add('debugger.resume', 'p2', { pauseId: 'p2', resolution: 'continued', effect: 'continue', toolCallIds: [], by: 'operator' });
  f.add('llm.start', 'i1-m2', { id: 'i1-m2', role: 'assistant' });
  f.add('llm.final', 'i1-m2', { id: 'i1-m2', text: 'The answer is 5.' });
  f.add('run.end', 'i1', { inferenceId: 'i1', turnId: 't1', status: 'completed', reason: 'completed', error: null, usage: null });
}

/** Approval of a batch of three calls (`/tools 3` with calc `approval: required`), denied. */
function approvalRun(f: FrameSeq): void {
  f.add('chat.message', 'user-t2', { schemaVersion: 1, role: 'user', content: '/tools 3', turnId: 't2' });
  f.add('run.start', 'i2', { inferenceId: 'i2', turnId: 't2', sessionId: 'c1', runtimeKey: 'approve' });
  const calls = [1, 2, 3].map((n) => ({ id: `a${n}`, name: 'calc', input: { expression: `${n}*${n}` } }));
  for (const c of calls) f.add('tool.start', c.id, { ...c, providerCallId: null });
  f.add('debugger.pause', 'p3', { id: 'p3', pauseId: 'p3', phase: 'approval', summary: 'Approve calc, calc, calc?', deadlineMs: NOW + 120_000, extra: { pendingTools: calls } });
  f.add('debugger.resume', 'p3', { pauseId: 'p3', resolution: 'denied', effect: 'deny', toolCallIds: ['a1', 'a2', 'a3'], by: 'operator' });
  for (const c of calls) {
    f.add('tool.result', c.id, { id: c.id, status: 'denied', result: null, error: 'denied by operator', durationMs: null, truncated: false, customKind: null });
    f.add('tool.done', c.id, { id: c.id });
  }
  f.add('run.end', 'i2', { inferenceId: 'i2', turnId: 't2', status: 'completed', reason: 'completed', error: null, usage: null });
}

describe('pause cards: live frames and hydration agree', () => {
  it('after every frame of a step-mode run, the rows (pause cards with pending calls) are the same', () => {
    const f = new FrameSeq();
    stepRun(f);
    for (let k = 1; k <= f.frames.length; k++) {
      const { live, hydrated } = bothWays(f, k);
      expect(hydrated.openPauses, `after frame ${k} (${f.frames[k - 1]!.type})`).toEqual(live.openPauses);
      expect(buildRows(hydrated), `after frame ${k} (${f.frames[k - 1]!.type})`).toEqual(buildRows(live));
    }
  });

  it('an open after_inference pause lists its call (name + input); resolved, it lists nothing', () => {
    const f = new FrameSeq();
    stepRun(f);
    const firstPause = f.frames.findIndex((e) => e.type === 'debugger.pause') + 1;
    for (const s of Object.values(bothWays(f, firstPause))) {
      expect(pauseRows(s)).toEqual([
        {
          type: 'pause', id: 'p1', pauseId: 'p1', phase: 'after_inference', summary: 'Review next action', deadlineMs: NOW + 30_000,
          resolution: null, open: true, pending: [{ id: 'tc1', name: 'calc', input: { expression: '2+3' } }],
        },
      ]);
      expect(buildRows(s).find((r) => r.type === 'tool')).toMatchObject({ id: 'tc1', waiting: true });
    }
    const afterTools = f.frames.findIndex((e) => e.type === 'debugger.pause' && e.id === 'p2') + 1;
    for (const s of Object.values(bothWays(f, afterTools))) {
      expect(pauseRows(s).map((p) => [p.phase, p.open, p.resolution, p.pending.length])).toEqual([
        ['after_inference', false, 'approved', 0],
        ['after_tools', true, null, 0],
      ]);
    }
    const { live } = bothWays(f, f.frames.length);
    expect(live.openPauses).toEqual([]);
    expect(pauseRows(live).map((p) => p.resolution)).toEqual(['approved', 'continued']);
  });

  it('an approval pause of three calls lists all three, live and hydrated; deny resolves it', () => {
    const f = new FrameSeq();
    stepRun(f);
    approvalRun(f);
    const open = f.frames.findIndex((e) => e.id === 'p3') + 1;
    const { live, hydrated } = bothWays(f, open);
    expect(hydrated.openPauses).toEqual(live.openPauses);
    const p = pauseRows(live).find((r) => r.pauseId === 'p3')!;
    expect(p).toMatchObject({ phase: 'approval', open: true });
    expect(p.pending.map((c) => `${c.name} ${JSON.stringify(c.input)}`)).toEqual(['calc {"expression":"1*1"}', 'calc {"expression":"2*2"}', 'calc {"expression":"3*3"}']);
    expect(buildRows(hydrated)).toEqual(buildRows(live));
    for (let k = open + 1; k <= f.frames.length; k++) {
      const b = bothWays(f, k);
      expect(buildRows(b.hydrated)).toEqual(buildRows(b.live));
    }
    const end = bothWays(f, f.frames.length).live;
    expect(buildRows(end).filter((r) => r.type === 'tool' && r.id.startsWith('a')).map((r) => r.type === 'tool' && r.status)).toEqual(['denied', 'denied', 'denied']);
    expect(pauseRows(end).find((r) => r.pauseId === 'p3')).toMatchObject({ open: false, resolution: 'denied', pending: [] });
  });

  it('hydration without the tool_call entity still lists the held id (name unknown)', () => {
    const s = fromSnapshot({
      convId: 'c1', epoch: 'e1', version: 1, serverTimeMs: NOW,
      conversation: { stepMode: true, running: null, queue: [], openPauses: [{ pauseId: 'p9', phase: 'approval', deadlineMs: NOW, toolCallIds: ['x'] }] },
      entities: [{ id: 'p9', kind: 'pause', firstSeq: 1, version: 1, createdAtMs: NOW, updatedAtMs: NOW, props: { pauseId: 'p9', phase: 'approval', summary: '', deadlineMs: NOW, resolution: null } }],
    });
    expect(pauseRows(s)[0]!.pending).toEqual([{ id: 'x', name: '', input: null }]);
  });
});

describe('pause card texts', () => {
  it('offers the actions valid for each phase', () => {
    expect(actionsFor('after_inference')).toEqual(['continue', 'approve', 'deny', 'abort']);
    expect(actionsFor('approval')).toEqual(['approve', 'deny', 'abort']);
    expect(actionsFor('after_tools')).toEqual(['continue', 'abort']);
    expect(['after_inference', 'approval', 'after_tools'].map((p) => primaryAction(p as 'approval'))).toEqual(['approve', 'approve', 'continue']);
  });

  it('counts down in whole seconds, then says it is timing out and what that does', () => {
    expect(secondsLeft(NOW + 29_001, NOW)).toBe(30);
    expect(countdownText(NOW + 29_001, NOW)).toBe('30 s left');
    expect(countdownText(NOW + 119_500, NOW)).toBe('2:00 left');
    expect(countdownText(NOW + 65_000, NOW)).toBe('1:05 left');
    expect(countdownText(NOW, NOW)).toBe('timing out…');
    expect(countdownText(NOW - 5_000, NOW)).toBe('timing out…');
    expect(timeoutText('approval', 3)).toBe('then the calls are denied');
    expect(timeoutText('approval', 1)).toBe('then the call is denied');
    expect(timeoutText('after_inference', 1)).toBe('then the call runs');
    expect(timeoutText('after_tools', 0)).toBe('then the run continues');
    expect(resolutionText('timeout', 'approval')).toBe('Timed out: denied');
    expect(resolutionText('timeout', 'after_tools')).toBe('Timed out: continued');
  });

  it('shows arguments as compact JSON, cut when long', () => {
    expect(compactArgs({ expression: '2+3' })).toEqual({ text: '{"expression":"2+3"}', cut: false });
    expect(compactArgs(null).text).toBe('null');
    const long = compactArgs({ s: 'x'.repeat(1000) });
    expect(long.cut).toBe(true);
    expect(long.text.length).toBe(401);
  });
});

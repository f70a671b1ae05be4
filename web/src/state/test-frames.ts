import { envelope, type AnyFrameEvent, type FrameDataOf, type FrameType } from '../protocol';

/** Test helper: a numbered stream of log frames (seq 1, 2, 3 …). */
export class FrameSeq {
  seq = 0;
  readonly frames: AnyFrameEvent[] = [];

  add<T extends FrameType>(type: T, id: string, data: FrameDataOf<T>): AnyFrameEvent {
    const ev = envelope(type, id, data, { seq: ++this.seq }).event as unknown as AnyFrameEvent;
    this.frames.push(ev);
    return ev;
  }

  /** One prompt with a calc tool call and a final answer (like the demo engine). */
  calcRun(turn: string, inf: string, prompt = 'What is (4*5)-1?'): void {
    this.add('chat.message', `user-${turn}`, { schemaVersion: 1, role: 'user', content: prompt, turnId: turn });
    this.add('run.start', inf, { inferenceId: inf, turnId: turn, sessionId: 'c1', runtimeKey: 'demo' });
    this.add('llm.start', `${inf}-m1`, { id: `${inf}-m1`, role: 'assistant' });
    this.add('tool.start', `${inf}-t1`, { id: `${inf}-t1`, name: 'calc', input: { expression: '(4*5)-1' }, providerCallId: null });
    this.add('llm.final', `${inf}-m1`, { id: `${inf}-m1`, text: '' });
    this.add('tool.delta', `${inf}-t1`, { id: `${inf}-t1`, patch: { exec: true, input: { expression: '(4*5)-1' } } });
    this.add('tool.result', `${inf}-t1`, { id: `${inf}-t1`, status: 'completed', result: 19, error: null, durationMs: 3, truncated: false, customKind: null });
    this.add('tool.done', `${inf}-t1`, { id: `${inf}-t1` });
    this.add('llm.start', `${inf}-m2`, { id: `${inf}-m2`, role: 'assistant' });
    this.add('llm.delta', `${inf}-m2`, { id: `${inf}-m2`, delta: 'The answer', offset: 0 });
    this.add('llm.delta', `${inf}-m2`, { id: `${inf}-m2`, delta: ' is 19.', offset: 10 });
    this.add('llm.final', `${inf}-m2`, { id: `${inf}-m2`, text: 'The answer is 19.' });
    this.add('run.end', inf, { inferenceId: inf, turnId: turn, status: 'completed', reason: 'completed', error: null, usage: null });
  }
}

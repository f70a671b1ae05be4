import { describe, expect, it } from 'vitest';
import { CancelResponse } from '../../src/protocol/http';
import { useServer } from '../helpers/fixture';
import { firstSeqProblem, WsClient, type Frame } from '../helpers/ws-client';

/**
 * Stop (D5, D6, runtime.md "Cancel"): one `run.end cancelled` (user_cancel), open message and
 * tool call closed, the slot free at once; already_finished / repeated / not_running /
 * stale_inference answers.
 */

const fx = useServer();
const open = fx.open;
const framesOf = (c: WsClient, inferenceId: string, runStart: Frame) => {
  const end = c.log.find((f) => f.type === 'run.end' && f.data.inferenceId === inferenceId);
  return c.log.filter((f) => f.seq! >= runStart.seq! && (!end || f.seq! <= end.seq!));
};

describe('cancel', () => {
  it('mid-stream: one run.end cancelled/user_cancel, the open message closed with llm.final, the next prompt starts at once', async () => {
    const convId = 'cancel-stream';
    const c = await open(convId);
    const r = await fx.srv.api.chat({ prompt: '/stream 5000 1', conv_id: convId });
    expect(r.status).toBe(200);
    await c.waitFor(() => c.count('llm.delta') >= 20, '20 deltas');

    const res = await fx.srv.api.cancel(convId);
    expect(res.status).toBe(200);
    const body = CancelResponse.parse(res.json);
    expect(body).toMatchObject({ status: 'cancelled', inference_id: r.json.inference_id });
    if (body.status !== 'cancelled') throw new Error('unreachable');

    // the answer came after the run.end was committed: the slot is free now
    const next = await fx.srv.api.chat({ prompt: 'What is 2+3?', conv_id: convId });
    expect(next.status).toBe(200);
    expect(next.json.status).toBe('started');
    expect(next.json.seq).toBeGreaterThan(body.seq);

    await c.waitFor(() => c.ofType('run.end').length >= 2, 'both run.ends');
    await fx.srv.api.waitIdle(convId);
    expect(firstSeqProblem(c.log.map((f) => f.seq!), 1)).toBeNull();
    expect(c.invalid).toEqual([]);

    const ends = c.ofType('run.end');
    expect(ends.map((e) => [e.data.inferenceId, e.data.status, e.data.reason])).toEqual([
      [r.json.inference_id, 'cancelled', 'user_cancel'],
      [next.json.inference_id, 'completed', 'completed'],
    ]);
    expect(ends[0]!.seq).toBe(body.seq);

    // the open message: closed once, with exactly the text streamed
    const first = c.log.filter((f) => f.seq! <= body.seq);
    const msgId = first.find((f) => f.type === 'llm.start')!.id;
    const deltas = first.filter((f) => f.type === 'llm.delta' && f.id === msgId).map((f) => f.data.delta);
    const finals = c.log.filter((f) => f.type === 'llm.final' && f.id === msgId);
    expect(finals).toHaveLength(1);
    expect(finals[0]!.seq).toBeLessThan(body.seq);
    expect(finals[0]!.data.text).toBe(deltas.join(''));
    // nothing of the cancelled run after its run.end (fenced)
    const later = c.log.filter((f) => f.seq! > body.seq);
    expect(later.filter((f) => f.id === msgId || f.id === r.json.inference_id)).toEqual([]);
    expect(later[0]!.type).toBe('chat.message');

    // the stopped prompt is in the next turn's history, with its partial answer
    const turns = await fx.srv.api.get(`/api/conversations/${convId}/turns?full=1`);
    const t1 = turns.json.turns.find((t: any) => t.turn_id === r.json.turn_id);
    expect(t1.status).toBe('cancelled');
    const t2 = turns.json.turns.find((t: any) => t.turn_id === next.json.turn_id);
    expect(t2.blocks.filter((b: any) => b.kind === 'user').map((b: any) => b.text)).toEqual(['/stream 5000 1', 'What is 2+3?']);
    expect(t2.blocks.find((b: any) => b.id === msgId)?.text).toBe(deltas.join(''));

    // repeated cancel of the same id → the same answer; without an id → not_running
    const again = await fx.srv.api.cancel(convId, { inference_id: r.json.inference_id });
    expect([again.status, again.json]).toEqual([200, body]);
    const none = await fx.srv.api.cancel(convId);
    expect([none.status, none.json]).toEqual([200, { status: 'not_running' }]);
  });

  it('an open tool call (held in a step-mode pause) is closed: tool.result cancelled + tool.done, the pause aborted', async () => {
    const convId = 'cancel-tool';
    const c = await open(convId);
    const r = await fx.srv.api.chat({ prompt: 'What is 7*6?', conv_id: convId, request_overrides: { step_mode: true } });
    expect(r.status).toBe(200);
    await c.waitType('debugger.pause');
    const toolId = c.ofType('tool.start')[0]!.id;
    const pause = c.ofType('debugger.pause')[0]!;
    expect(pause.data.extra.pendingTools.map((t: any) => t.id)).toEqual([toolId]);

    const res = await fx.srv.api.cancel(convId, { inference_id: r.json.inference_id });
    expect(res.json).toMatchObject({ status: 'cancelled', inference_id: r.json.inference_id });
    await c.waitType('run.end');
    const run = framesOf(c, r.json.inference_id, c.ofType('run.start')[0]!);
    const tail = run.filter((f) => f.seq! > pause.seq!).map((f) => `${f.type}:${f.id}`);
    expect(tail).toEqual([`tool.result:${toolId}`, `tool.done:${toolId}`, `debugger.resume:${pause.id}`, `run.end:${r.json.inference_id}`]);
    expect(c.ofType('tool.result')[0]!.data).toMatchObject({ status: 'cancelled' });
    expect(c.ofType('debugger.resume')[0]!.data).toMatchObject({ pauseId: pause.id, resolution: 'aborted', effect: 'abort' });
    expect(c.ofType('run.end')[0]!.data).toMatchObject({ status: 'cancelled', reason: 'user_cancel' });
    expect(c.ofType('tool.delta')).toEqual([]); // the tool never ran

    const st = await fx.srv.api.conversation(convId);
    expect(st.json).toMatchObject({ running: null, open_pauses: [], step_mode: true });
    // the history is valid for the next prompt: the call has its cancelled answer
    const turns = await fx.srv.api.get(`/api/conversations/${convId}/turns?full=1`);
    const blocks = turns.json.turns[0].blocks;
    const call = blocks.findIndex((b: any) => b.kind === 'tool_call' && b.id === toolId);
    expect(blocks[call + 1]).toMatchObject({ kind: 'tool_use', id: toolId, status: 'cancelled' });
    expect(c.invalid).toEqual([]);
  });

  it('cancel after the run completed → already_finished (and the same again); racing completion → one consistent outcome', async () => {
    const convId = 'cancel-finished';
    const c = await open(convId);
    const r = await fx.srv.api.chat({ prompt: 'short one', conv_id: convId });
    expect(r.status).toBe(200);
    await fx.srv.api.waitIdle(convId);
    const res = await fx.srv.api.cancel(convId, { inference_id: r.json.inference_id });
    expect([res.status, res.json]).toEqual([200, { status: 'already_finished', inference_id: r.json.inference_id, run_status: 'completed' }]);
    const again = await fx.srv.api.cancel(convId, { inference_id: r.json.inference_id });
    expect([again.status, again.json]).toEqual([200, res.json]);

    // a race: cancel sent right after the prompt; whichever wins, the log and the answer agree
    for (let i = 0; i < 5; i++) {
      const p = await fx.srv.api.chat({ prompt: `race ${i}`, conv_id: convId });
      expect(p.status).toBe(200);
      const x = await fx.srv.api.cancel(convId, { inference_id: p.json.inference_id });
      expect(x.status).toBe(200);
      await fx.srv.api.waitIdle(convId);
      const ends = (await fx.srv.api.allEvents(convId)).frames.map((f) => f.event).filter((e) => e.type === 'run.end' && e.data.inferenceId === p.json.inference_id);
      expect(ends).toHaveLength(1);
      if (x.json.status === 'cancelled') {
        expect(ends[0].data).toMatchObject({ status: 'cancelled', reason: 'user_cancel' });
        expect(x.json.seq).toBe(ends[0].seq);
      } else {
        expect(x.json).toEqual({ status: 'already_finished', inference_id: p.json.inference_id, run_status: 'completed' });
        expect(ends[0].data.status).toBe('completed');
      }
      const y = await fx.srv.api.cancel(convId, { inference_id: p.json.inference_id });
      expect(y.json).toEqual(x.json);
    }
    expect(c.invalid).toEqual([]);
  });

  it('not_running; unknown inference id → 409 stale_inference; unknown conversation → 404', async () => {
    const convId = 'cancel-idle';
    expect((await fx.srv.api.chat({ prompt: 'hi', conv_id: convId })).status).toBe(200);
    const idle = await fx.srv.api.waitIdle(convId);
    const res = await fx.srv.api.cancel(convId);
    expect([res.status, res.json]).toEqual([200, { status: 'not_running' }]);
    const stale = await fx.srv.api.cancel(convId, { inference_id: '00000000-0000-4000-8000-000000000000' });
    expect(stale.status).toBe(409);
    expect(stale.json.error.code).toBe('stale_inference');
    expect(stale.headers.get('content-type')).toMatch(/^application\/json/);
    // while another run is active, naming a different unknown id is still stale and stops nothing
    const run = await fx.srv.api.chat({ prompt: '/stream 300 1', conv_id: convId });
    const stale2 = await fx.srv.api.cancel(convId, { inference_id: 'not-a-run' });
    expect([stale2.status, stale2.json.error.code]).toEqual([409, 'stale_inference']);
    const st = await fx.srv.api.conversation(convId);
    expect(st.json.running?.inference_id).toBe(run.json.inference_id);
    await fx.srv.api.waitIdle(convId);
    const ends = (await fx.srv.api.allEvents(convId)).frames.map((f) => f.event).filter((e) => e.type === 'run.end');
    expect(ends.map((e) => e.data.status)).toEqual(['completed', 'completed']);
    expect(idle.last_seq).toBeLessThan(run.json.seq);
    const unknown = await fx.srv.api.cancel('no-such-conversation');
    expect([unknown.status, unknown.json.error.code]).toEqual([404, 'conversation_not_found']);
  });
});

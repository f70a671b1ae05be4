import { describe, expect, it } from 'vitest';
import { streamText } from '../../src/providers/demo/demo-script';
import { useServer } from '../helpers/fixture';
import { firstSeqProblem, type Frame } from '../helpers/ws-client';

/**
 * Exact resume (D3, protocol.md "WebSocket /ws" 2–3): reconnect with since/epoch → exactly the
 * missing frames, then live; a 100k-frame catch-up over one socket; ws.resync when impossible.
 */

const fx = useServer();
const open = fx.open;

/** The assistant text of a run, from its deltas (each counted once). */
const deltaText = (frames: readonly Frame[]) =>
  frames
    .filter((f) => f.type === 'llm.delta')
    .map((f) => f.data.delta)
    .join('');

describe('resume', () => {
  it('disconnect mid-stream, reconnect with since/epoch: exactly the missing frames, then live; w1..w2000 exactly once', async () => {
    const convId = 'resume-mid-stream';
    const a = await open(convId);
    const r = await fx.srv.api.chat({ prompt: '/stream 2000 1', conv_id: convId });
    expect(r.status).toBe(200);
    await a.waitFor(() => a.count('llm.delta') >= 100, '100 deltas');
    await a.close();
    const seen = a.lastSeq;
    const epoch = a.hello!.data.epoch as string;
    // Let the log move on while nobody listens, so there is something to replay.
    await fx.srv.api.waitState(convId, (s) => s.last_seq >= seen + 50, 'log to grow');

    const b = await open(convId, { since: seen, epoch });
    expect(b.hello!.data.lastSeq).toBeGreaterThan(seen);
    await b.waitType('run.end');
    const end = b.ofType('run.end')[0]!;
    expect(end.data).toMatchObject({ status: 'completed', inferenceId: r.json.inference_id });
    // live part exercised: the run ended after the socket said hello
    expect(end.seq!).toBeGreaterThan(b.hello!.data.lastSeq);
    await fx.srv.api.waitIdle(convId);

    expect(b.frames[0]!.type).toBe('ws.hello');
    expect(b.frames.filter((f) => f.seq === null)).toHaveLength(1); // no resync
    expect(firstSeqProblem(b.log.map((f) => f.seq!), seen + 1)).toBeNull();
    const combined = [...a.log, ...b.log];
    expect(firstSeqProblem(combined.map((f) => f.seq!), 1)).toBeNull();
    expect(deltaText(combined)).toBe(streamText(2000));
    expect(combined.filter((f) => f.type === 'llm.final').map((f) => f.data.text)).toEqual([streamText(2000)]);
    const all = await fx.srv.api.allEvents(convId);
    expect(all.raw).toEqual(combined.map((f) => f.raw));
    expect([...a.invalid, ...b.invalid]).toEqual([]);
  });

  it('a 100k-frame catch-up over one socket completes in order (no 1013 loop)', async () => {
    const convId = 'resume-100k';
    const r = await fx.srv.api.chat({ prompt: '/stream 100000 0', conv_id: convId });
    expect(r.status).toBe(200);
    const state = await fx.srv.api.waitIdle(convId, 80_000);
    const last = state.last_seq as number;
    expect(last).toBeGreaterThan(100_000);

    const c = await open(convId, { since: 0, epoch: state.epoch });
    await c.waitSeq(last, { timeoutMs: 80_000 });
    expect(c.closeInfo).toBeNull();
    expect(c.log).toHaveLength(last);
    expect(firstSeqProblem(c.log.map((f) => f.seq!), 1)).toBeNull();
    expect(c.invalid).toEqual([]);
    expect(c.frames.filter((f) => f.seq === null).map((f) => f.type)).toEqual(['ws.hello']);
    expect(deltaText(c.log)).toBe(streamText(100_000));
    expect(c.log[c.log.length - 1]!.type).toBe('run.end');
    // and it is live afterwards: the next prompt arrives on the same socket
    expect((await fx.srv.api.chat({ prompt: 'after the catch-up', conv_id: convId })).status).toBe(200);
    await c.waitType('run.end', 2);
    expect(firstSeqProblem(c.log.map((f) => f.seq!), 1)).toBeNull();
  }, 90_000);

  it('since ahead of the log → ws.resync since_ahead, then live after lastSeq', async () => {
    const convId = 'resume-ahead';
    expect((await fx.srv.api.chat({ prompt: 'hello', conv_id: convId })).status).toBe(200);
    const state = await fx.srv.api.waitIdle(convId);
    const c = await open(convId, { since: state.last_seq + 100, epoch: state.epoch });
    await c.waitType('ws.resync');
    expect(c.frames.map((f) => f.type)).toEqual(['ws.hello', 'ws.resync']);
    const resync = c.ofType('ws.resync')[0]!;
    expect(resync.seq).toBeNull();
    expect(resync.data).toEqual({ convId, lastSeq: state.last_seq, epoch: state.epoch, reason: 'since_ahead' });
    // live delivery continues after lastSeq
    expect((await fx.srv.api.chat({ prompt: 'again', conv_id: convId })).status).toBe(200);
    await c.waitType('run.end');
    expect(firstSeqProblem(c.log.map((f) => f.seq!), state.last_seq + 1)).toBeNull();
    expect(c.invalid).toEqual([]);
  });

  it('a wrong epoch with since > 0 → ws.resync epoch_changed; since=0 with any epoch replays everything', async () => {
    const convId = 'resume-epoch';
    expect((await fx.srv.api.chat({ prompt: 'hello', conv_id: convId })).status).toBe(200);
    const state = await fx.srv.api.waitIdle(convId);
    const c = await open(convId, { since: 2, epoch: 'not-the-epoch' });
    await c.waitType('ws.resync');
    expect(c.ofType('ws.resync')[0]!.data).toEqual({ convId, lastSeq: state.last_seq, epoch: state.epoch, reason: 'epoch_changed' });
    expect(c.log).toEqual([]); // never a silently short replay

    const z = await open(convId, { since: 0, epoch: 'not-the-epoch' });
    await z.waitSeq(state.last_seq);
    expect(z.ofType('ws.resync')).toEqual([]);
    expect(firstSeqProblem(z.log.map((f) => f.seq!), 1)).toBeNull();

    // the right epoch resumes exactly
    const ok = await open(convId, { since: 2, epoch: state.epoch });
    await ok.waitSeq(state.last_seq);
    expect(ok.ofType('ws.resync')).toEqual([]);
    expect(firstSeqProblem(ok.log.map((f) => f.seq!), 3)).toBeNull();
  });
});

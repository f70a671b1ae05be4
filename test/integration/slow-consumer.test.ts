import { describe, expect, it } from 'vitest';
import { streamText } from '../../src/providers/demo/demo-script';
import { useServer } from '../helpers/fixture';
import { firstSeqProblem } from '../helpers/ws-client';

/**
 * Slow consumer (protocol.md "WebSocket /ws" 6, D15): a socket that stops reading is closed
 * 1013 once its send buffer is over the limit (here 64 KiB), while another socket on the
 * conversation gets every frame in order; the slow client then resumes with `since` and loses
 * nothing. The loopback kernel buffers take a few MiB before the server's own buffer grows, so
 * the runs below produce ~7 MiB of frames, each well under the limit (a single frame larger
 * than the whole limit would close every socket).
 */

const RUNS = 5;
const WORDS = 8000; // llm.final of 8000 words ≈ 47 KB < 64 KiB
const fx = useServer({ args: ['--ws-send-buffer', '65536'] });
const open = fx.open;

/** Submits RUNS fast streams (the first starts, the rest queue). */
async function flood(convId: string) {
  for (let i = 0; i < RUNS; i++) {
    const r = await fx.srv.api.chat({ prompt: `/stream ${WORDS} 0`, conv_id: convId });
    expect([200, 202]).toContain(r.status); // the first starts; the rest queue unless the run already ended
  }
}

describe('slow consumer', () => {
  it('a socket that stops reading is closed 1013; the other gets every frame in order; the slow one resumes with since', async () => {
    const convId = 'slow-consumer';
    const fast = await open(convId);
    const slow = await open(convId);
    const epoch = slow.hello!.data.epoch as string;
    slow.pauseReading();

    await flood(convId);
    await fast.waitType('run.end', RUNS, { timeoutMs: 30_000 });
    const state = await fx.srv.api.waitIdle(convId);

    // the reader got everything, in order, and was never closed
    expect(fast.closeInfo).toBeNull();
    expect(fast.lastSeq).toBe(state.last_seq);
    expect(firstSeqProblem(fast.log.map((f) => f.seq!), 1)).toBeNull();
    expect(fast.ofType('llm.final').map((f) => f.data.text)).toEqual(Array(RUNS).fill(streamText(WORDS)));
    expect(fast.invalid).toEqual([]);

    // the stalled one: a clean prefix of what it had been sent, then 1013
    slow.resumeReading();
    const closed = await slow.waitClose();
    expect(closed.code).toBe(1013);
    expect(slow.lastSeq).toBeLessThan(state.last_seq); // it really fell behind
    expect(firstSeqProblem(slow.log.map((f) => f.seq!), 1)).toBeNull();
    expect(slow.log.map((f) => f.raw)).toEqual(fast.log.slice(0, slow.log.length).map((f) => f.raw));

    // resume with since: exactly the rest
    const again = await open(convId, { since: slow.lastSeq, epoch });
    await again.waitSeq(state.last_seq, { timeoutMs: 30_000 });
    expect(again.closeInfo).toBeNull();
    expect(again.frames.filter((f) => f.seq === null).map((f) => f.type)).toEqual(['ws.hello']);
    expect([...slow.log, ...again.log].map((f) => f.raw)).toEqual(fast.log.map((f) => f.raw));
    expect([...slow.invalid, ...again.invalid]).toEqual([]);
  }, 60_000);

  it('the dropped client resumes while a run is still live: it catches up and stays live (no 1013 loop)', async () => {
    const convId = 'slow-consumer-live';
    const fast = await open(convId);
    const slow = await open(convId);
    const epoch = slow.hello!.data.epoch as string;
    slow.pauseReading();
    await flood(convId);
    // a long paced run queued behind the flood: live while the slow client comes back
    const paced = await fx.srv.api.chat({ prompt: '/stream 4000 1', conv_id: convId });
    expect(paced.status).toBe(202);
    await fast.waitType('run.end', RUNS, { timeoutMs: 30_000 });
    slow.resumeReading();
    expect((await slow.waitClose()).code).toBe(1013);
    expect(fast.count('run.end')).toBe(RUNS); // the paced run is still going

    const again = await open(convId, { since: slow.lastSeq, epoch });
    await again.waitFor(() => again.lastSeq > again.hello!.data.lastSeq, 'a live frame after the replay', { timeoutMs: 30_000 });
    await fx.srv.api.cancel(convId);
    await fast.waitType('run.end', RUNS + 1);
    const state = await fx.srv.api.waitIdle(convId);
    await again.waitSeq(state.last_seq);
    expect(fast.lastSeq).toBe(state.last_seq);
    expect(again.closeInfo).toBeNull();
    expect(again.frames.filter((f) => f.seq === null).map((f) => f.type)).toEqual(['ws.hello']);
    const combined = [...slow.log, ...again.log];
    expect(firstSeqProblem(combined.map((f) => f.seq!), 1)).toBeNull();
    expect(combined.map((f) => f.raw)).toEqual(fast.log.map((f) => f.raw));
    expect(fast.closeInfo).toBeNull();
  }, 60_000);
});

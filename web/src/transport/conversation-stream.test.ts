import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { envelope, type TimelineSnapshot } from '../protocol';
import { FrameSeq } from '../state/test-frames';
import { ConversationStream, TerminalStreamError, type SocketLike } from './conversation-stream';

class FakeSocket implements SocketLike {
  readyState = 0;
  sent: string[] = [];
  closed: number | null = null;
  onopen: SocketLike['onopen'] = null;
  onmessage: SocketLike['onmessage'] = null;
  onclose: SocketLike['onclose'] = null;
  onerror: SocketLike['onerror'] = null;
  constructor(readonly query: { convId: string; since: number; epoch: string | null }) {}
  send(data: string) {
    this.sent.push(data);
  }
  close(code = 1000) {
    this.closed = code;
    this.readyState = 3;
  }
  hello(epoch = 'e1', lastSeq = 0) {
    this.readyState = 1;
    this.deliver(envelope('ws.hello', 'h', { convId: 'c1', runtimeKey: 'demo', serverTime: 1, lastSeq, epoch, protocolVersion: 1 }));
  }
  deliver(msg: unknown) {
    this.onmessage?.({ data: JSON.stringify(msg) });
  }
  frame(ev: unknown) {
    this.deliver({ sem: true, event: ev });
  }
  drop(code = 1006) {
    this.readyState = 3;
    this.onclose?.({ code, reason: '' });
  }
}

const snapshot = (version: number, epoch = 'e1', entities: TimelineSnapshot['entities'] = []): TimelineSnapshot => ({
  convId: 'c1', epoch, version, serverTimeMs: 0,
  conversation: { stepMode: false, running: null, queue: [], openPauses: [] },
  entities,
});

function setup(snaps: TimelineSnapshot[]) {
  const sockets: FakeSocket[] = [];
  const fetchSnapshot = vi.fn(async () => snaps.shift() ?? snapshot(0));
  const problems: string[] = [];
  const stream = new ConversationStream({
    convId: 'c1',
    fetchSnapshot,
    openSocket: (q) => {
      const s = new FakeSocket(q);
      sockets.push(s);
      return s;
    },
    random: () => 0.5,
    onProblem: (m) => problems.push(m),
  });
  return { stream, sockets, fetchSnapshot, problems, last: () => sockets[sockets.length - 1]! };
}

const content = (s: ConversationStream, id: string) => s.getView().state.entities[id]?.props.content;

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('ConversationStream', () => {
  it('hydrates, connects with since=version&epoch, applies frames in order once', async () => {
    const f = new FrameSeq();
    f.calcRun('t1', 'i1');
    const t = setup([snapshot(0, 'e1')]);
    t.stream.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(t.sockets).toHaveLength(1);
    expect(t.last().query).toEqual({ convId: 'c1', since: 0, epoch: 'e1' });
    expect(t.stream.getView().status).toBe('connecting');
    t.last().hello();
    expect(t.stream.getView().status).toBe('connected');
    for (const ev of f.frames) t.last().frame(ev);
    for (const ev of f.frames.slice(3, 8)) t.last().frame(ev); // duplicates
    await vi.advanceTimersByTimeAsync(20);
    const v = t.stream.getView();
    expect(v.state.version).toBe(13);
    expect(content(t.stream, 'i1-m2')).toBe('The answer is 19.');
    expect(t.fetchSnapshot).toHaveBeenCalledTimes(1);
    t.stream.stop();
  });

  it('reconnects after a drop with backoff and resumes from the last applied seq (no re-hydration)', async () => {
    const f = new FrameSeq();
    f.calcRun('t1', 'i1');
    const t = setup([snapshot(0)]);
    t.stream.start();
    await vi.advanceTimersByTimeAsync(0);
    t.last().hello();
    for (const ev of f.frames.slice(0, 10)) t.last().frame(ev);
    t.last().drop();
    expect(t.stream.getView().status).toBe('reconnecting');
    expect(t.stream.getView().state.version).toBe(10); // flushed at close
    await vi.advanceTimersByTimeAsync(249);
    expect(t.sockets).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(2);
    expect(t.sockets).toHaveLength(2);
    expect(t.last().query).toEqual({ convId: 'c1', since: 10, epoch: 'e1' });
    t.last().drop(); // server still down
    await vi.advanceTimersByTimeAsync(500);
    expect(t.sockets).toHaveLength(3);
    t.last().hello();
    for (const ev of f.frames.slice(10)) t.last().frame(ev);
    await vi.advanceTimersByTimeAsync(20);
    expect(t.stream.getView().status).toBe('connected');
    expect(content(t.stream, 'i1-m2')).toBe('The answer is 19.');
    expect(t.fetchSnapshot).toHaveBeenCalledTimes(1);
    t.stream.stop();
  });

  it('re-hydrates on a gap and on ws.resync', async () => {
    const f = new FrameSeq();
    f.calcRun('t1', 'i1');
    const t = setup([snapshot(0), snapshot(11, 'e1'), snapshot(13, 'e2')]);
    t.stream.start();
    await vi.advanceTimersByTimeAsync(0);
    t.last().hello();
    t.last().frame(f.frames[0]);
    t.last().frame(f.frames[5]); // gap
    await vi.advanceTimersByTimeAsync(0);
    expect(t.fetchSnapshot).toHaveBeenCalledTimes(2);
    expect(t.sockets[0]!.closed).toBe(1000);
    expect(t.last().query).toEqual({ convId: 'c1', since: 11, epoch: 'e1' });
    t.last().hello();
    t.last().deliver(envelope('ws.resync', 'r', { convId: 'c1', lastSeq: 13, epoch: 'e2', reason: 'epoch_changed' }));
    await vi.advanceTimersByTimeAsync(0);
    // a second resync within 2 s waits for the backoff
    expect(t.fetchSnapshot).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(300);
    expect(t.fetchSnapshot).toHaveBeenCalledTimes(3);
    expect(t.last().query).toEqual({ convId: 'c1', since: 13, epoch: 'e2' });
    expect(t.problems.some((p) => p.includes('gap'))).toBe(true);
    t.stream.stop();
  });

  it('stops for good when the conversation is deleted (4404)', async () => {
    const t = setup([snapshot(0)]);
    t.stream.start();
    await vi.advanceTimersByTimeAsync(0);
    t.last().hello();
    t.last().drop(4404);
    expect(t.stream.getView().status).toBe('deleted');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(t.sockets).toHaveLength(1);
  });

  it('stops when hydration says the conversation is gone; retries other hydration failures', async () => {
    const t = setup([]);
    let calls = 0;
    t.fetchSnapshot.mockImplementation(async () => {
      calls++;
      if (calls === 1) throw new Error('network');
      throw new TerminalStreamError('deleted');
    });
    t.stream.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(t.stream.getView().status).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(300);
    expect(t.stream.getView().status).toBe('deleted');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toBe(2);
    expect(t.sockets).toHaveLength(0);
  });

  it('pings every 20 s and reconnects when nothing answers', async () => {
    const t = setup([snapshot(0)]);
    t.stream.start();
    await vi.advanceTimersByTimeAsync(0);
    t.last().hello();
    await vi.advanceTimersByTimeAsync(20_000);
    expect(t.last().sent).toEqual(['{"type":"ws.ping"}']);
    t.last().deliver(envelope('ws.pong', 'p', { convId: 'c1', serverTime: 1 }));
    await vi.advanceTimersByTimeAsync(20_000);
    expect(t.last().sent).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(10_000); // no pong
    expect(t.stream.getView().status).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(300);
    expect(t.sockets).toHaveLength(2);
    t.stream.stop();
  });

  it('skips invalid and unknown frames without stalling', async () => {
    const f = new FrameSeq();
    f.calcRun('t1', 'i1');
    const t = setup([snapshot(0)]);
    t.stream.start();
    await vi.advanceTimersByTimeAsync(0);
    t.last().hello();
    t.last().frame(f.frames[0]);
    t.last().frame({ type: 'future.thing', id: 'x', seq: 2, stream_id: null, data: {}, metadata: null });
    t.last().frame({ ...f.frames[2], seq: 3, data: { nonsense: true } });
    for (const ev of f.frames.slice(3)) t.last().frame(ev);
    await vi.advanceTimersByTimeAsync(20);
    expect(t.stream.getView().state.version).toBe(13);
    expect(t.problems).toEqual(['invalid llm.start frame (ignored)']);
    expect(t.fetchSnapshot).toHaveBeenCalledTimes(1);
    t.stream.stop();
  });
});

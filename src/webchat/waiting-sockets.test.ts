import { describe, expect, it } from 'vitest';
import { FakeSocket } from './testing/fake-socket';
import { WaitingSockets } from './waiting-sockets';
import { noopMetrics, type WebchatMetrics } from './webchat-metrics';

function counting(): { metrics: WebchatMetrics; sockets: () => number } {
  let n = 0;
  return { metrics: { ...noopMetrics, socketsChanged: (d) => void (n += d) }, sockets: () => n };
}
const opts = { since: null, epoch: null, runtimeKey: 'fast' };

describe('WaitingSockets', () => {
  it('hello with the epoch the conversation will have; entries go when their sockets close', () => {
    const m = counting();
    const w = new WaitingSockets(m.metrics);
    const a = new FakeSocket();
    const b = new FakeSocket();
    w.add('c', a, opts);
    w.add('c', b, { since: 3, epoch: null, runtimeKey: 'fast' });
    const epoch = w.epochOf('c')!;
    expect(a.events().map((e) => [e.type, e.data.lastSeq, e.data.epoch])).toEqual([['ws.hello', 0, epoch]]);
    expect(b.events().map((e) => e.type)).toEqual(['ws.hello', 'ws.resync']);
    expect(b.events()[1]!.data).toMatchObject({ lastSeq: 0, epoch, reason: 'since_ahead' });
    expect([w.conversationCount, m.sockets()]).toEqual([1, 2]);
    a.close();
    b.close();
    expect([w.conversationCount, m.sockets(), w.epochOf('c')]).toEqual([0, 0, null]);
  });

  it('a socket already closed is not registered', () => {
    const m = counting();
    const w = new WaitingSockets(m.metrics);
    const a = new FakeSocket();
    a.close();
    w.add('c', a, opts);
    expect([w.conversationCount, m.sockets(), a.sent]).toEqual([0, 0, []]);
  });

  it('take hands over the open sockets once, with the epoch; their later close is not counted twice', () => {
    const m = counting();
    const w = new WaitingSockets(m.metrics);
    const a = new FakeSocket();
    w.add('c', a, opts);
    const epoch = w.epochOf('c');
    const t = w.take('c')!;
    expect([t.epoch, t.sockets]).toEqual([epoch, [a]]);
    expect([w.take('c'), w.conversationCount, m.sockets()]).toEqual([null, 0, 0]);
    a.close();
    expect(m.sockets()).toBe(0);
  });

  it('closeAll closes every waiting socket', () => {
    const m = counting();
    const w = new WaitingSockets(m.metrics);
    const a = new FakeSocket();
    const b = new FakeSocket();
    w.add('c1', a, opts);
    w.add('c2', b, opts);
    w.closeAll(1001, 'server shutting down');
    expect([a.closeCode, b.closeCode, w.conversationCount, m.sockets()]).toEqual([1001, 1001, 0, 0]);
  });
});

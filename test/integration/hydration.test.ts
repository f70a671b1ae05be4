import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TimelineSnapshot } from '../../src/protocol/timeline';
import type { Api, HttpResult } from '../helpers/http';
import { startServer, tempDir, type TempDir, type TestServer } from '../helpers/server';
import { emptyState, fromSnapshot, reduce } from '../helpers/timeline-reducer';
import { firstSeqProblem, frameProblems, WsClient } from '../helpers/ws-client';

/**
 * Hydration (protocol.md "Hydration snapshot", runtime.md "Projection"): `/api/timeline` is
 * exact at its `version`, and snapshot + WebSocket `since=version&epoch` frames reproduce the
 * state of a fresh snapshot at the end — at rest, mid-stream and after a graceful restart.
 */

let dir: TempDir;
let srv: TestServer;
const sockets: WsClient[] = [];

beforeAll(async () => {
  dir = tempDir();
  srv = await startServer(dir, { db: dir.file('hydration.db') });
});
// every frame any client received parses with EnvelopeSchema
afterEach(() => {
  expect(frameProblems(sockets)).toEqual([]);
});
afterAll(async () => {
  for (const s of sockets) s.terminate();
  await srv?.close();
  dir?.remove();
});

const open = async (s: TestServer, convId: string, opts: { since?: number; epoch?: string } = {}) => {
  const c = await WsClient.open(s.wsBase, convId, opts);
  sockets.push(c);
  return c;
};

async function snapshot(api: Api, convId: string) {
  const r = await api.timeline(convId);
  expect(r.status).toBe(200);
  const snap = TimelineSnapshot.parse(r.json);
  // entities are ordered by firstSeq
  const firsts = snap.entities.map((e) => e.firstSeq);
  expect(firsts).toEqual([...firsts].sort((a, b) => a - b));
  return r.json;
}

/** The state reduced from the whole log (frames 1..N) must equal the snapshot at N. */
async function expectExact(api: Api, convId: string, snap: any) {
  const all = await api.allEvents(convId);
  const upTo = all.frames.map((f) => f.event).filter((e) => e.seq <= snap.version);
  expect(upTo).toHaveLength(snap.version);
  expect(fromSnapshot(snap)).toEqual(reduce(emptyState(), upTo));
}

/** Prompts that exercise every entity kind: messages, thinking, tool calls and results, runs, logs. */
async function varied(api: Api, convId: string) {
  for (const prompt of ['What is 2+3?', '/think', '/tools 3', '/error provider_rate_limited', 'plain words']) {
    const r = await api.chat({ prompt, conv_id: convId });
    expect(r.status, prompt).toBe(200);
    await api.waitIdle(convId);
  }
}

describe('hydration', () => {
  it('at rest: the snapshot equals the reduction of the whole log, for every entity kind', async () => {
    const convId = 'hydrate-rest';
    const empty = await snapshot(srv.api, convId);
    expect(empty).toMatchObject({ convId, version: 0, entities: [], conversation: { running: null, queue: [], openPauses: [] } });
    await varied(srv.api, convId);
    const snap = await snapshot(srv.api, convId);
    const kinds = new Set(snap.entities.map((e: any) => e.kind));
    expect([...kinds].sort()).toEqual(['log', 'message', 'run', 'tool_call', 'tool_result']);
    expect(snap.entities.filter((e: any) => e.kind === 'run').map((e: any) => e.props.status)).toEqual(['completed', 'completed', 'completed', 'error', 'completed']);
    await expectExact(srv.api, convId, snap);
  });

  it('mid-stream: snapshot at V + socket since=V reproduces the final snapshot', async () => {
    const convId = 'hydrate-mid';
    const r = await srv.api.chat({ prompt: '/stream 1500 1', conv_id: convId });
    expect(r.status).toBe(200);
    await srv.api.waitState(convId, (s) => s.last_seq >= 100, 'some frames');
    const mid = await snapshot(srv.api, convId);
    expect(mid.conversation.running).toMatchObject({ inferenceId: r.json.inference_id, turnId: r.json.turn_id });
    const streaming = mid.entities.filter((e: any) => e.kind === 'message' && e.props.streaming === true);
    expect(streaming).toHaveLength(1);
    await expectExact(srv.api, convId, mid);

    const c = await open(srv, convId, { since: mid.version, epoch: mid.epoch });
    await c.waitType('run.end');
    await srv.api.waitIdle(convId);
    expect(c.ofType('ws.resync')).toEqual([]);
    expect(firstSeqProblem(c.log.map((f) => f.seq!), mid.version + 1)).toBeNull();
    const end = await snapshot(srv.api, convId);
    expect(end.version).toBe(c.lastSeq);
    expect(reduce(fromSnapshot(mid), c.log.map((f) => JSON.parse(f.raw).event))).toEqual(fromSnapshot(end));
    expect(end.entities.find((e: any) => e.id === streaming[0].id).props).toMatchObject({ streaming: false });
  });

  it('snapshots at many versions during a stream are each exact at their version', async () => {
    const convId = 'hydrate-many';
    expect((await srv.api.chat({ prompt: '/stream 600 1', conv_id: convId })).status).toBe(200);
    const snaps: any[] = [];
    for (;;) {
      const s = await snapshot(srv.api, convId);
      snaps.push(s);
      if (s.conversation.running === null) break;
    }
    expect(snaps.length).toBeGreaterThan(2);
    const all = (await srv.api.allEvents(convId)).frames.map((f) => f.event);
    for (const s of snaps) expect(fromSnapshot(s), `version ${s.version}`).toEqual(reduce(emptyState(), all.slice(0, s.version)));
  });

  it('after a graceful restart (also one that stopped a stream): same snapshot, exact, and since=version continues', async () => {
    const restDb = dir.file('restart.db');
    const a = await startServer(dir, { db: restDb });
    const convId = 'hydrate-restart';
    let r: HttpResult | undefined;
    try {
      await varied(a.api, convId);
      const started = await a.api.chat({ prompt: '/stream 5000 1', conv_id: convId });
      r = started;
      expect(started.status).toBe(200);
      await a.api.waitState(convId, (s) => s.last_seq >= started.json.seq + 50, 'stream under way');
    } finally {
      await a.close(); // graceful: the run ends, everything is flushed
    }
    let b = await startServer(dir, { db: restDb });
    try {
      const s1 = await snapshot(b.api, convId);
      expect(s1.conversation.running).toBeNull();
      const run = s1.entities.find((e: any) => e.id === r!.json.inference_id);
      expect(run.props).toMatchObject({ status: 'cancelled', reason: 'shutdown' });
      expect(s1.entities.filter((e: any) => e.kind === 'message' && e.props.streaming)).toEqual([]);
      await expectExact(b.api, convId, s1);

      // restart again at rest: the persisted projection is byte-for-byte what was served before
      await b.close();
      b = await startServer(dir, { db: restDb });
      const s2 = await snapshot(b.api, convId);
      const { serverTimeMs: _t1, ...rest1 } = s1;
      const { serverTimeMs: _t2, ...rest2 } = s2;
      expect(rest2).toEqual(rest1);

      // hydrate, connect since=version, continue the conversation
      const c = await open(b, convId, { since: s2.version, epoch: s2.epoch });
      const next = await b.api.chat({ prompt: 'What is 6*7?', conv_id: convId });
      expect(next.status).toBe(200);
      await c.waitType('run.end');
      await b.api.waitIdle(convId);
      const s3 = await snapshot(b.api, convId);
      expect(c.lastSeq).toBe(s3.version);
      expect(reduce(fromSnapshot(s2), c.log.map((f) => JSON.parse(f.raw).event))).toEqual(fromSnapshot(s3));
      await expectExact(b.api, convId, s3);
    } finally {
      await b.close();
    }
  });
});

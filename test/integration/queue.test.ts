import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ChatQueuedResponse, ChatStartedResponse } from '../../src/protocol/http';
import { startServer, tempDir, type TempDir, type TestServer } from '../helpers/server';
import { firstSeqProblem, frameProblems, WsClient } from '../helpers/ws-client';

/**
 * Busy policy and queue (D7, protocol.md "POST /chat", runtime.md "Queue"): 202 + run.queued
 * frames and in-order runs, a queue that survives a graceful restart, reject (409), interrupt
 * (superseded, ahead of the queue), queue_full (429), and idempotency.
 */

let dir: TempDir;
let srv: TestServer;
const sockets: WsClient[] = [];
const ARGS = ['--queue-depth', '2'];

beforeAll(async () => {
  dir = tempDir();
  srv = await startServer(dir, { args: ARGS });
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

/** The run.queued / chat.message / run.start / run.end skeleton of a log. */
const skeleton = (c: WsClient) =>
  c.log
    .filter((f) => ['run.queued', 'chat.message', 'run.start', 'run.end'].includes(f.type))
    .map((f) => {
      switch (f.type) {
        case 'run.queued':
          return `queued:${f.data.status}:${f.data.prompt}`;
        case 'chat.message':
          return `message:${f.data.content}`;
        case 'run.end':
          return `end:${f.data.status}:${f.data.reason}`;
        default:
          return 'start';
      }
    });

describe('queue', () => {
  it('a prompt while busy → 202 with run.queued; queued prompts run in order after the first', async () => {
    const convId = 'queue-order';
    const c = await open(srv, convId);
    const first = await srv.api.chat({ prompt: '/stream 200 1', conv_id: convId });
    expect(first.status).toBe(200);
    const q1 = await srv.api.chat({ prompt: 'second', conv_id: convId });
    const q2 = await srv.api.chat({ prompt: 'third', conv_id: convId });
    for (const [q, pos] of [[q1, 1], [q2, 2]] as const) {
      expect(q.status).toBe(202);
      const body = ChatQueuedResponse.parse(q.json);
      expect(body).toMatchObject({ status: 'queued', conv_id: convId, session_id: convId, queue_position: pos, queue_depth: pos, runtime_key: 'fast', idempotency_key: null });
    }
    // the 202's seq is its run.queued frame
    await c.waitFor(() => c.count('run.queued') >= 2, 'two run.queued');
    const queuedFrames = c.ofType('run.queued');
    expect(queuedFrames.map((f) => f.seq)).toEqual([q1.json.seq, q2.json.seq]);
    expect(queuedFrames.map((f) => f.id)).toEqual([`queue:${q1.json.turn_id}`, `queue:${q2.json.turn_id}`]);
    expect(queuedFrames[1]!.data).toMatchObject({ status: 'queued', prompt: 'third', position: 2, depth: 2, turnId: q2.json.turn_id });
    const st = await srv.api.conversation(convId);
    expect(st.json.queue.map((q: any) => [q.turn_id, q.position, q.prompt])).toEqual([
      [q1.json.turn_id, 1, 'second'],
      [q2.json.turn_id, 2, 'third'],
    ]);

    await c.waitType('run.end', 3);
    await srv.api.waitIdle(convId);
    expect(skeleton(c)).toEqual([
      'message:/stream 200 1', 'start', 'queued:queued:second', 'queued:queued:third', 'end:completed:completed',
      'queued:started:second', 'message:second', 'start', 'end:completed:completed',
      'queued:started:third', 'message:third', 'start', 'end:completed:completed',
    ]);
    const msgs = c.ofType('chat.message');
    expect(msgs.map((m) => m.data.turnId)).toEqual([first.json.turn_id, q1.json.turn_id, q2.json.turn_id]);
    expect(firstSeqProblem(c.log.map((f) => f.seq!), 1)).toBeNull();
    expect(c.invalid).toEqual([]);
    // each queued prompt's turn has the earlier prompts
    const turns = await srv.api.get(`/api/conversations/${convId}/turns?full=1`);
    expect(turns.json.turns.map((t: any) => t.blocks.filter((b: any) => b.kind === 'user').map((b: any) => b.text))).toEqual([
      ['/stream 200 1'],
      ['/stream 200 1', 'second'],
      ['/stream 200 1', 'second', 'third'],
    ]);
  });

  it('queue_full: 429 at the depth limit, nothing appended', async () => {
    const convId = 'queue-full';
    const first = await srv.api.chat({ prompt: '/stream 3000 1', conv_id: convId });
    expect(first.status).toBe(200);
    expect((await srv.api.chat({ prompt: 'q1', conv_id: convId })).status).toBe(202);
    expect((await srv.api.chat({ prompt: 'q2', conv_id: convId })).status).toBe(202);
    const full = await srv.api.chat({ prompt: 'q3', conv_id: convId });
    expect(full.status).toBe(429);
    expect(full.json.error.code).toBe('queue_full');
    const st = await srv.api.conversation(convId);
    expect(st.json.queue.map((q: any) => q.prompt)).toEqual(['q1', 'q2']);
    const cleared = await srv.api.cancel(convId, { clear_queue: true });
    expect(cleared.json.status).toBe('cancelled');
    await srv.api.waitIdle(convId);
    const events = (await srv.api.allEvents(convId)).frames.map((f) => f.event);
    expect(events.filter((e) => e.type === 'run.queued').map((e) => `${e.data.prompt}:${e.data.status}`)).toEqual(['q1:queued', 'q2:queued', 'q1:dropped', 'q2:dropped']);
    expect(events.some((e) => e.type === 'chat.message' && e.data.content === 'q3')).toBe(false);
    expect(events.filter((e) => e.type === 'chat.message')).toHaveLength(1);
  });

  it('reject profile → 409 conversation_busy with details.inference_id; nothing appended', async () => {
    const convId = 'queue-reject';
    const first = await srv.api.chat({ prompt: '/stream 2000 1', conv_id: convId, runtime_key: 'rej' });
    expect(first.status).toBe(200);
    expect(first.json.runtime_key).toBe('rej');
    const busy = await srv.api.chat({ prompt: 'not now', conv_id: convId, runtime_key: 'rej' });
    expect(busy.status).toBe(409);
    expect(busy.json.error).toMatchObject({ code: 'conversation_busy', details: { inference_id: first.json.inference_id } });
    // the same through the path form
    const busy2 = await srv.api.chat({ prompt: 'not now either', conv_id: convId }, undefined, '/chat/rej');
    expect([busy2.status, busy2.json.error.code]).toEqual([409, 'conversation_busy']);
    await srv.api.cancel(convId);
    await srv.api.waitIdle(convId);
    const events = (await srv.api.allEvents(convId)).frames.map((f) => f.event);
    expect(events.filter((e) => e.type === 'chat.message').map((e) => e.data.content)).toEqual(['/stream 2000 1']);
    expect(events.filter((e) => e.type === 'run.queued')).toEqual([]);
  });

  it('interrupt: the active run ends cancelled/superseded, the new prompt starts next, ahead of the queue', async () => {
    const convId = 'queue-interrupt';
    const c = await open(srv, convId);
    const first = await srv.api.chat({ prompt: '/stream 3000 1', conv_id: convId });
    expect(first.status).toBe(200);
    const queued = await srv.api.chat({ prompt: 'waiting in line', conv_id: convId });
    expect(queued.status).toBe(202);
    await c.waitFor(() => c.count('llm.delta') >= 5, 'stream under way');
    const urgent = await srv.api.chat({ prompt: 'urgent', conv_id: convId, request_overrides: { busy_policy: 'interrupt' } });
    expect(urgent.status).toBe(200);
    const body = ChatStartedResponse.parse(urgent.json);
    await c.waitType('run.end', 3);
    await srv.api.waitIdle(convId);
    expect(skeleton(c)).toEqual([
      'message:/stream 3000 1', 'start', 'queued:queued:waiting in line', 'end:cancelled:superseded',
      'message:urgent', 'start', 'end:completed:completed',
      'queued:started:waiting in line', 'message:waiting in line', 'start', 'end:completed:completed',
    ]);
    expect(c.ofType('run.end')[0]!.data.inferenceId).toBe(first.json.inference_id);
    expect(c.ofType('run.start')[1]!.data.inferenceId).toBe(body.inference_id);
    expect(body.seq).toBe(c.ofType('chat.message')[1]!.seq);
    // the cancelled run's open message was closed before its run.end
    const end = c.ofType('run.end')[0]!;
    const msgId = c.ofType('llm.start')[0]!.id;
    expect(c.log.filter((f) => f.type === 'llm.final' && f.id === msgId && f.seq! < end.seq!)).toHaveLength(1);
    expect(firstSeqProblem(c.log.map((f) => f.seq!), 1)).toBeNull();
    // interrupt is an override the profile must allow
    const refused = await srv.api.chat({ prompt: 'x', conv_id: 'queue-interrupt-rej', runtime_key: 'rej', request_overrides: { busy_policy: 'interrupt' } });
    expect([refused.status, refused.json.error.code]).toEqual([400, 'override_not_allowed']);
  });

  it('the queue survives a graceful restart: the queued prompt runs after it (run.queued started, then chat.message)', async () => {
    const db = dir.file('queue-restart.db');
    const convId = 'queue-restart';
    const a = await startServer(dir, { db, args: ARGS });
    let q: any;
    let first: any;
    try {
      first = await a.api.chat({ prompt: '/stream 5000 1', conv_id: convId });
      expect(first.status).toBe(200);
      q = await a.api.chat({ prompt: '/stream 300 1', conv_id: convId, idempotency_key: 'restart-key' });
      expect(q.status).toBe(202);
      await a.api.waitState(convId, (s) => s.last_seq >= q.json.seq + 20, 'stream under way');
    } finally {
      await a.close();
    }
    const b = await startServer(dir, { db, args: ARGS });
    try {
      const c = await open(b, convId, { since: q.json.seq, epoch: (await b.api.conversation(convId)).json.epoch });
      await c.waitFor(() => c.ofType('run.end').some((e) => e.data.turnId === q.json.turn_id), 'the queued prompt to run');
      await b.api.waitIdle(convId);
      const all = (await b.api.allEvents(convId)).frames.map((f) => f.event);
      const after = all.filter((e) => e.seq > q.json.seq);
      const sk = after
        .filter((e) => ['run.queued', 'chat.message', 'run.start', 'run.end'].includes(e.type))
        .map((e) => `${e.type}:${e.data.status ?? ''}:${e.data.reason ?? ''}:${e.data.turnId}`);
      expect(sk).toEqual([
        `run.end:cancelled:shutdown:${first.json.turn_id}`,
        `run.queued:started::${q.json.turn_id}`,
        `chat.message:::${q.json.turn_id}`,
        `run.start:::${q.json.turn_id}`,
        `run.end:completed:completed:${q.json.turn_id}`,
      ]);
      // exactly one start of the queued prompt, and its idempotency replay now says started
      const replay = await b.api.chat({ prompt: '/stream 300 1', conv_id: convId, idempotency_key: 'restart-key' });
      expect(replay.status).toBe(200);
      expect(replay.json).toMatchObject({ status: 'started', turn_id: q.json.turn_id, idempotency_key: 'restart-key' });
      expect(firstSeqProblem(all.map((e) => e.seq), 1)).toBeNull();
    } finally {
      await b.close();
    }
  });
});

describe('idempotency', () => {
  it('the same key replays the same answer (status + body); a queued prompt replays its current state', async () => {
    const convId = 'idem-replay';
    const a = await srv.api.chat({ prompt: '/stream 500 1', conv_id: convId, idempotency_key: 'k-run' });
    expect(a.status).toBe(200);
    expect(a.json.idempotency_key).toBe('k-run');
    const a2 = await srv.api.chat({ prompt: '/stream 500 1', conv_id: convId, idempotency_key: 'k-run' });
    expect([a2.status, a2.json]).toEqual([a.status, a.json]);
    // without conv_id the key alone identifies it
    const a3 = await srv.api.chat({ prompt: '/stream 500 1', idempotency_key: 'k-run' });
    expect([a3.status, a3.json]).toEqual([a.status, a.json]);

    const q = await srv.api.chat({ prompt: 'queued one', conv_id: convId, idempotency_key: 'k-queued' });
    expect(q.status).toBe(202);
    const q2 = await srv.api.chat({ prompt: 'queued one', conv_id: convId, idempotency_key: 'k-queued' });
    expect([q2.status, q2.json]).toEqual([202, q.json]);
    await srv.api.waitIdle(convId);
    // once it started: 200 with its inference
    const q3 = await srv.api.chat({ prompt: 'queued one', conv_id: convId, idempotency_key: 'k-queued' });
    expect(q3.status).toBe(200);
    const events = (await srv.api.allEvents(convId)).frames.map((f) => f.event);
    const msg = events.find((e) => e.type === 'chat.message' && e.data.turnId === q.json.turn_id);
    const start = events.find((e) => e.type === 'run.start' && e.data.turnId === q.json.turn_id);
    expect(q3.json).toEqual({ status: 'started', conv_id: convId, session_id: convId, inference_id: start.data.inferenceId, turn_id: q.json.turn_id, idempotency_key: 'k-queued', runtime_key: 'fast', seq: msg.seq });
    // one run each
    expect(events.filter((e) => e.type === 'chat.message').map((e) => e.data.content)).toEqual(['/stream 500 1', 'queued one']);
  });

  it('concurrent duplicates get one run and identical answers', async () => {
    const convId = 'idem-concurrent';
    const c = await open(srv, convId);
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => srv.api.chat({ prompt: '/stream 50 1', conv_id: convId, idempotency_key: 'k-concurrent' })),
    );
    for (const r of answers) expect([r.status, r.json]).toEqual([answers[0]!.status, answers[0]!.json]);
    expect(answers[0]!.status).toBe(200);
    await c.waitType('run.end');
    await srv.api.waitIdle(convId);
    expect(c.ofType('chat.message')).toHaveLength(1);
    expect(c.ofType('run.start')).toHaveLength(1);
    expect(c.ofType('run.queued')).toHaveLength(0);
    // and concurrent duplicates of a queued prompt
    const busy = await srv.api.chat({ prompt: '/stream 2000 1', conv_id: convId });
    expect(busy.status).toBe(200);
    const queued = await Promise.all(
      Array.from({ length: 5 }, () => srv.api.chat({ prompt: 'dup queued', conv_id: convId }, { 'Idempotency-Key': 'k-concurrent-q' })),
    );
    for (const r of queued) expect([r.status, r.json]).toEqual([202, queued[0]!.json]);
    await srv.api.cancel(convId);
    await srv.api.waitIdle(convId);
    const events = (await srv.api.allEvents(convId)).frames.map((f) => f.event);
    expect(events.filter((e) => e.type === 'run.queued').map((e) => e.data.status)).toEqual(['queued', 'started']);
    expect(events.filter((e) => e.type === 'chat.message' && e.data.content === 'dup queued')).toHaveLength(1);
  });

  it('same key with a different prompt or conversation → 422 idempotency_key_reused; the Idempotency-Key header works', async () => {
    const convId = 'idem-reused';
    const a = await srv.api.chat({ prompt: 'original', conv_id: convId }, { 'Idempotency-Key': 'k-header' });
    expect(a.status).toBe(200);
    expect(a.json.idempotency_key).toBe('k-header');
    await srv.api.waitIdle(convId);
    const before = await srv.api.allEvents(convId);
    // the header key and the body key are the same key
    const viaBody = await srv.api.chat({ prompt: 'original', conv_id: convId, idempotency_key: 'k-header' });
    expect([viaBody.status, viaBody.json]).toEqual([200, a.json]);
    const other = await srv.api.chat({ prompt: 'something else', conv_id: convId }, { 'Idempotency-Key': 'k-header' });
    expect(other.status).toBe(422);
    expect(other.json.error.code).toBe('idempotency_key_reused');
    const otherConv = await srv.api.chat({ prompt: 'original', conv_id: 'idem-reused-elsewhere', idempotency_key: 'k-header' });
    expect([otherConv.status, otherConv.json.error.code]).toEqual([422, 'idempotency_key_reused']);
    // nothing changed
    expect((await srv.api.allEvents(convId)).raw).toEqual(before.raw);
    expect((await srv.api.conversation('idem-reused-elsewhere')).status).toBe(404);
  });
});

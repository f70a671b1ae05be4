import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawnServer, tempDir, writeProfiles, type ChildServer, type TempDir } from '../helpers/server';
import { firstSeqProblem, frameProblems, WsClient } from '../helpers/ws-client';

/**
 * Crash (D2, D5, runtime.md "Conversation manager" start-up): kill -9 the server mid-stream and
 * restart it on the same SQLite file. Every frame a client saw is in the log unchanged, no seq
 * is reused, the open runs are closed `interrupted` (reason `shutdown`) with their open message,
 * tool call and pause closed, the stored queue drains, and the conversation continues with its
 * history.
 */

let dir: TempDir;
const children: ChildServer[] = [];
const sockets: WsClient[] = [];

beforeAll(() => {
  dir = tempDir();
});
// every frame any client received parses with EnvelopeSchema
afterEach(() => {
  expect(frameProblems(sockets)).toEqual([]);
});
afterAll(async () => {
  for (const s of sockets) s.terminate();
  for (const c of children) await c.kill9();
  dir?.remove();
});

const spawn = async (db: string, profilesPath: string) => {
  const c = await spawnServer({ db, profilesPath });
  children.push(c);
  return c;
};
const open = async (srv: ChildServer, convId: string, opts: { since?: number; epoch?: string } = {}) => {
  const c = await WsClient.open(srv.wsBase, convId, opts);
  sockets.push(c);
  return c;
};

describe('kill -9 mid-stream and restart on the same database', () => {
  it('keeps every frame a client saw, reuses no seq, closes open runs interrupted, drains the queue, continues with history', async () => {
    const db = dir.file('crash.db');
    const profilesPath = writeProfiles(dir);
    const first = await spawn(db, profilesPath);

    // conv 1: a long stream that is still running at the crash, with a prompt queued behind it
    const c1 = 'crash-stream';
    const s1 = await open(first, c1);
    const run1 = await first.api.chat({ prompt: '/stream 100000 1', conv_id: c1 });
    expect(run1.status).toBe(200);
    const queued = await first.api.chat({ prompt: 'queued before the crash', conv_id: c1 });
    expect(queued.status).toBe(202);

    // conv 2: a run held in a step-mode pause with its tool call open
    const c2 = 'crash-paused';
    const s2 = await open(first, c2);
    const run2 = await first.api.chat({ prompt: 'What is 2+3?', conv_id: c2, request_overrides: { step_mode: true } });
    expect(run2.status).toBe(200);
    await s2.waitType('debugger.pause');

    await s1.waitFor(() => s1.count('llm.delta') >= 300, '300 deltas');
    await first.kill9();
    await Promise.all([s1.waitClose(), s2.waitClose()]);
    const seen1 = s1.log.slice();
    const seen2 = s2.log.slice();
    expect(seen1.length).toBeGreaterThan(300);

    const second = await spawn(db, profilesPath);

    // ---- conv 1 ----
    const log1 = await second.api.allEvents(c1);
    expect(log1.epoch).toBe(s1.hello!.data.epoch); // committed history survived: same epoch
    expect(firstSeqProblem(log1.frames.map((f) => f.event.seq), 1)).toBeNull();
    for (const f of seen1) expect(log1.raw[f.seq! - 1], `seq ${f.seq}`).toBe(f.raw);
    const events1 = log1.frames.map((f) => f.event);
    const ends1 = events1.filter((e) => e.type === 'run.end');
    const end1 = ends1.find((e) => e.data.inferenceId === run1.json.inference_id);
    expect(end1.data).toMatchObject({ status: 'interrupted', reason: 'shutdown', turnId: run1.json.turn_id });
    expect(ends1.filter((e) => e.data.inferenceId === run1.json.inference_id)).toHaveLength(1);
    // the open message was closed with its text so far, before the run.end
    const deltas = events1.filter((e) => e.type === 'llm.delta' && e.seq < end1.seq);
    const msgId = deltas[0].id;
    const final = events1.find((e) => e.type === 'llm.final' && e.id === msgId);
    expect(final.seq).toBeLessThan(end1.seq);
    expect(final.data.text).toBe(deltas.map((e: any) => e.data.delta).join(''));
    expect(final.seq).toBeGreaterThan(seen1[seen1.length - 1]!.seq!); // appended after the crash, not reusing a seq
    // nothing of the dead run after its run.end
    expect(events1.filter((e) => e.seq > end1.seq && (e.id === msgId || e.id === run1.json.inference_id))).toEqual([]);

    // the stored queue drained at start-up, visibly: run.queued started, chat.message, run.start …
    const idle1 = await second.api.waitIdle(c1);
    const after = (await second.api.allEvents(c1)).frames.map((f) => f.event).filter((e) => e.seq > end1.seq);
    expect(after.slice(0, 3).map((e) => [e.type, e.data.status ?? null])).toEqual([
      ['run.queued', 'started'],
      ['chat.message', null],
      ['run.start', null],
    ]);
    expect(after[0].data.turnId).toBe(queued.json.turn_id);
    expect(after[1].data.content).toBe('queued before the crash');
    expect(after[after.length - 1]).toMatchObject({ type: 'run.end', data: { status: 'completed', turnId: queued.json.turn_id } });

    // the conversation continues: the next prompt starts at once and its turn has the history
    const s1b = await open(second, c1, { since: idle1.last_seq, epoch: idle1.epoch });
    const next = await second.api.chat({ prompt: 'What is 4*5?', conv_id: c1 });
    expect(next.status).toBe(200);
    expect(next.json.seq).toBe(idle1.last_seq + 1);
    await s1b.waitType('run.end');
    expect(s1b.ofType('run.end')[0]!.data).toMatchObject({ status: 'completed', inferenceId: next.json.inference_id });
    expect(firstSeqProblem(s1b.log.map((f) => f.seq!), idle1.last_seq + 1)).toBeNull();
    expect(s1b.invalid).toEqual([]);
    const turns = await second.api.get(`/api/conversations/${c1}/turns?full=1`);
    expect(turns.status).toBe(200);
    const nextTurn = turns.json.turns.find((t: any) => t.turn_id === next.json.turn_id);
    const userTexts = nextTurn.blocks.filter((b: any) => b.kind === 'user').map((b: any) => b.text);
    expect(userTexts).toEqual(['/stream 100000 1', 'queued before the crash', 'What is 4*5?']);
    const interruptedTurn = turns.json.turns.find((t: any) => t.turn_id === run1.json.turn_id);
    expect(interruptedTurn.status).toBe('interrupted');

    // ---- conv 2: open tool call and pause closed by the start-up recovery ----
    const log2 = await second.api.allEvents(c2);
    expect(firstSeqProblem(log2.frames.map((f) => f.event.seq), 1)).toBeNull();
    for (const f of seen2) expect(log2.raw[f.seq! - 1], `seq ${f.seq}`).toBe(f.raw);
    const tail2 = log2.frames.map((f) => f.event).filter((e) => e.seq > seen2[seen2.length - 1]!.seq!);
    const toolId = s2.ofType('tool.start')[0]!.id;
    const pauseId = s2.ofType('debugger.pause')[0]!.id;
    expect(tail2.map((e) => `${e.type}:${e.id}`)).toEqual([
      `tool.result:${toolId}`,
      `tool.done:${toolId}`,
      `debugger.resume:${pauseId}`,
      `run.end:${run2.json.inference_id}`,
    ]);
    expect(tail2[0].data).toMatchObject({ status: 'cancelled' });
    expect(tail2.find((e) => e.type === 'debugger.resume').data).toMatchObject({ resolution: 'aborted', effect: 'abort' });
    expect(tail2[tail2.length - 1].data).toMatchObject({ status: 'interrupted', reason: 'shutdown' });
    const st2 = await second.api.conversation(c2);
    expect(st2.json).toMatchObject({ running: null, open_pauses: [] });
  }, 90_000);
});

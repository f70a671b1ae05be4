import { describe, expect, it } from 'vitest';
import { ChatStartedResponse, EventsResponse } from '../../src/protocol/http';
import { useServer } from '../helpers/fixture';
import { firstSeqProblem } from '../helpers/ws-client';

/**
 * One prompt, two sockets: identical frames in identical order, contiguous seqs, and the
 * events API returns byte-identical frames (protocol.md "Frames", D1–D3).
 */

const fx = useServer();
const open = fx.open;

describe('one prompt streams to two sockets', () => {
  it('chat.message, run.start, llm.*, tool.*, run.end: identical on both sockets, seqs 1..N, events API byte-identical', async () => {
    const convId = 'stream-two-sockets';
    // Sockets opened before the conversation exists are accepted and wait (protocol.md /ws 2).
    const a = await open(convId);
    const b = await open(convId);
    for (const s of [a, b]) {
      expect(s.frames[0]!.type).toBe('ws.hello');
      expect(s.frames[0]!.seq).toBeNull();
      expect(s.hello!.data).toMatchObject({ convId, lastSeq: 0, protocolVersion: 1 });
    }

    const r = await fx.srv.api.chat({ prompt: 'What is 2+3?', conv_id: convId });
    expect(r.status).toBe(200);
    const started = ChatStartedResponse.parse(r.json);
    expect(started).toMatchObject({ status: 'started', conv_id: convId, session_id: convId, runtime_key: 'fast', seq: 1 });

    await Promise.all([a.waitType('run.end'), b.waitType('run.end')]);
    const end = a.ofType('run.end')[0]!;
    // Nothing more comes for this run after run.end: the conversation is idle and the log ends there.
    const state = await fx.srv.api.waitIdle(convId);
    expect(state.last_seq).toBe(end.seq);

    for (const s of [a, b]) {
      expect(s.invalid).toEqual([]);
      expect(s.garbage).toEqual([]);
      expect(s.closeInfo).toBeNull();
    }
    // identical order and bytes on both sockets
    expect(b.log.map((f) => f.raw)).toEqual(a.log.map((f) => f.raw));
    const seqs = a.log.map((f) => f.seq!);
    expect(firstSeqProblem(seqs, 1)).toBeNull();
    expect(seqs.length).toBe(end.seq);

    const types = a.log.map((f) => f.type);
    expect(types[0]).toBe('chat.message');
    expect(types[1]).toBe('run.start');
    expect(types[types.length - 1]).toBe('run.end');
    expect(types.filter((t) => t === 'run.end')).toHaveLength(1);
    for (const t of ['llm.start', 'llm.delta', 'llm.final', 'tool.start', 'tool.delta', 'tool.result', 'tool.done']) {
      expect(types, t).toContain(t);
    }
    // The tool's frames in lifecycle order, one each.
    const toolTypes = a.log.filter((f) => f.type.startsWith('tool.')).map((f) => f.type);
    expect(toolTypes).toEqual(['tool.start', 'tool.delta', 'tool.result', 'tool.done']);
    const toolId = a.ofType('tool.start')[0]!.id;
    expect(a.log.filter((f) => f.type.startsWith('tool.')).every((f) => f.id === toolId)).toBe(true);
    expect(a.ofType('tool.result')[0]!.data).toMatchObject({ status: 'completed' });

    const msg = a.ofType('chat.message')[0]!;
    expect(msg.id).toBe(`user-${started.turn_id}`);
    expect(msg.data).toEqual({ schemaVersion: 1, role: 'user', content: 'What is 2+3?', turnId: started.turn_id });
    expect(a.ofType('run.start')[0]!.data).toEqual({ inferenceId: started.inference_id, turnId: started.turn_id, sessionId: convId, runtimeKey: 'fast' });
    expect(end.data).toMatchObject({ inferenceId: started.inference_id, turnId: started.turn_id, status: 'completed', reason: 'completed', error: null });

    // Every message: llm.start, deltas whose offsets add up, llm.final with the full text.
    const byMessage = new Map<string, { deltas: string[]; offsets: number[]; final: string | null; started: boolean }>();
    for (const f of a.log) {
      if (!f.type.startsWith('llm.')) continue;
      const m = byMessage.get(f.id) ?? { deltas: [], offsets: [], final: null, started: false };
      byMessage.set(f.id, m);
      if (f.type === 'llm.start') {
        expect(m.started).toBe(false);
        m.started = true;
      } else if (f.type === 'llm.delta') {
        expect(m.started && m.final === null).toBe(true);
        m.offsets.push(f.data.offset);
        m.deltas.push(f.data.delta);
      } else if (f.type === 'llm.final') {
        expect(m.final).toBeNull();
        m.final = f.data.text;
      }
    }
    expect(byMessage.size).toBe(2); // before the tool call, and the answer after it
    for (const m of byMessage.values()) {
      expect(m.final).toBe(m.deltas.join(''));
      let off = 0;
      m.offsets.forEach((o, i) => {
        expect(o).toBe(off);
        off += m.deltas[i]!.length;
      });
    }
    expect([...byMessage.values()].map((m) => m.final)).toEqual(['Let me calculate that.', 'The answer is 5.']);

    // The events API: same frames, same bytes.
    const ev = await fx.srv.api.events(convId, 0);
    expect(ev.status).toBe(200);
    const body = EventsResponse.parse(ev.json);
    expect(body).toMatchObject({ conv_id: convId, epoch: a.hello!.data.epoch, last_seq: end.seq, next_since: end.seq, resync: false });
    expect(body.frames.map((f) => JSON.stringify(f))).toEqual(a.log.map((f) => f.raw));
    // …byte for byte as written in the HTTP body
    expect((await fx.srv.api.allEvents(convId)).raw).toEqual(a.log.map((f) => f.raw));
    // paging: since/limit return exact slices
    const page = await fx.srv.api.events(convId, 3, 4);
    expect(page.json.frames.map((f: unknown) => JSON.stringify(f))).toEqual(a.log.slice(3, 7).map((f) => f.raw));
    expect(page.json.next_since).toBe(7);
    const tail = await fx.srv.api.events(convId, end.seq!);
    expect(tail.json).toMatchObject({ frames: [], next_since: end.seq, resync: false });
  });

  it('a second prompt continues the same log: seqs go on from N+1 on a socket that stayed open', async () => {
    const convId = 'stream-continues';
    const a = await open(convId);
    expect((await fx.srv.api.chat({ prompt: 'hello there', conv_id: convId })).status).toBe(200);
    await a.waitType('run.end');
    await fx.srv.api.waitIdle(convId);
    const n = a.lastSeq;
    const r2 = await fx.srv.api.chat({ prompt: '/think', conv_id: convId });
    expect(r2.status).toBe(200);
    expect(r2.json.seq).toBe(n + 1);
    await a.waitType('run.end', 2);
    expect(firstSeqProblem(a.log.map((f) => f.seq!), 1)).toBeNull();
    const types = a.log.slice(n).map((f) => f.type);
    expect(types.slice(0, 2)).toEqual(['chat.message', 'run.start']);
    for (const t of ['llm.thinking.start', 'llm.thinking.delta', 'llm.thinking.final']) expect(types).toContain(t);
    expect(a.invalid).toEqual([]);
    const all = await fx.srv.api.allEvents(convId);
    expect(all.raw).toEqual(a.log.map((f) => f.raw));
  });

  it('a provider error is visible: the message closed, a log frame, one run.end error with its code', async () => {
    const convId = 'stream-error';
    const a = await open(convId);
    const r = await fx.srv.api.chat({ prompt: '/error provider_rate_limited', conv_id: convId });
    expect(r.status).toBe(200);
    await a.waitType('run.end');
    await fx.srv.api.waitIdle(convId);
    expect(a.log.map((f) => f.type)).toEqual([
      'chat.message', 'run.start', 'llm.start', 'llm.delta', 'llm.delta', 'llm.delta', 'llm.final', 'log', 'run.end',
    ]);
    expect(a.ofType('llm.final')[0]!.data.text).toBe('Something went wrong');
    expect(a.ofType('log')[0]!.data).toMatchObject({ level: 'error', fields: { code: 'provider_rate_limited' } });
    expect(a.ofType('run.end')[0]!.data).toMatchObject({ status: 'error', reason: 'error', error: { code: 'provider_rate_limited' } });
    expect(a.invalid).toEqual([]);
    // the conversation is usable afterwards
    expect((await fx.srv.api.chat({ prompt: 'after the error', conv_id: convId })).status).toBe(200);
    await a.waitType('run.end', 2);
    expect(a.ofType('run.end')[1]!.data.status).toBe('completed');
  });
});

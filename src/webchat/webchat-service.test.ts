import { afterEach, describe, expect, it } from 'vitest';
import { createChatService } from './create-chat-service';
import { ProfileRegistry } from './profile-registry';
import { DEMO_PROFILE } from './runtime-profile';
import { FakeSocket } from './testing/fake-socket';
import type { WebchatService } from './webchat-service';

let svc: WebchatService | null = null;
afterEach(async () => {
  await svc?.close();
  svc = null;
});

async function service() {
  svc = await createChatService({ dbPath: ':memory:', profiles: new ProfileRegistry([{ ...DEMO_PROFILE, chunkDelayMs: 1 }]) });
  return svc;
}

const prompt = (s: WebchatService, text: string, convId = 'c1', extra: Partial<Parameters<WebchatService['submitPrompt']>[0]> = {}) =>
  s.submitPrompt({ prompt: text, convId, runtimeKey: null, idempotencyKey: null, overrides: null, principal: null, ...extra });

describe('WebchatService (runtime, no HTTP)', () => {
  it('streams one prompt with a tool call to a socket in contiguous seq order', async () => {
    const s = await service();
    const ws = new FakeSocket();
    await s.attachSocket('c1', ws, { since: null, epoch: null }, null);
    const r = await prompt(s, 'What is 2+3?');
    expect(r.httpStatus).toBe(200);
    await ws.waitRunEnds(1);
    const frames = ws.logFrames();
    expect(frames.map((f) => f.seq)).toEqual(frames.map((_, i) => i + 1));
    const types = frames.map((f) => f.type);
    expect(types[0]).toBe('chat.message');
    expect(types[1]).toBe('run.start');
    expect(types).toContain('tool.start');
    expect(types).toContain('tool.result');
    expect(types[types.length - 1]).toBe('run.end');
    expect(frames.find((f) => f.type === 'run.end')!.data.status).toBe('completed');
    const finals = frames.filter((f) => f.type === 'llm.final').map((f) => f.data.text);
    expect(finals[finals.length - 1]).toBe('The answer is 5.');
    const tl = await s.getTimeline('c1');
    expect(tl.version).toBe(frames.length);
    const turns = (await s.getTurns('c1', false, null)) as { turns: { created_at_ms: number; status: string; blocks: { kind: string }[] }[] };
    expect(turns.turns).toHaveLength(1);
    expect(turns.turns[0]!.created_at_ms).toBeGreaterThan(0);
    expect(turns.turns[0]!.status).toBe('completed');
    expect(turns.turns[0]!.blocks.map((b) => b.kind)).toEqual(['user', 'llm_text', 'tool_call', 'tool_use', 'llm_text']);
    const ev = await s.readEvents('c1', 0, 1000, null);
    expect(ev.frames.map((f: any) => f.event.seq)).toEqual(frames.map((f) => f.seq));
  });

  it('queues a second prompt and runs it after the first', async () => {
    const s = await service();
    const ws = new FakeSocket();
    await s.attachSocket('c1', ws, { since: null, epoch: null }, null);
    await prompt(s, '/stream 20 1');
    const q = await prompt(s, 'second');
    expect(q.httpStatus).toBe(202);
    await ws.waitRunEnds(2);
    const types = ws.logFrames().map((f) => f.type);
    expect(types.filter((t) => t === 'run.queued')).toHaveLength(2);
    const st = await s.getConversation('c1', null);
    expect(st.queue).toEqual([]);
    expect(st.running).toBeNull();
  });

  it('cancel mid-stream: one run.end cancelled, next prompt starts', async () => {
    const s = await service();
    const ws = new FakeSocket();
    await s.attachSocket('c1', ws, { since: null, epoch: null }, null);
    const r = await prompt(s, '/stream 500 2');
    await ws.waitFor(() => ws.events().some((e) => e.type === 'llm.delta'));
    const c = await s.cancel('c1', { inferenceId: null, clearQueue: false }, null);
    expect(c.status).toBe('cancelled');
    const again = await s.cancel('c1', { inferenceId: (r.body as any).inference_id, clearQueue: false }, null);
    expect(again).toEqual(c);
    const r2 = await prompt(s, 'hello');
    expect(r2.httpStatus).toBe(200);
    await ws.waitRunEnds(2);
    const ends = ws.logFrames().filter((f) => f.type === 'run.end');
    expect(ends.map((e) => e.data.status)).toEqual(['cancelled', 'completed']);
  });
});

describe('a profile that cannot start', () => {
  const broken = { ...DEMO_PROFILE, slug: 'broken', provider: 'openai' as const, model: 'm', apiKeyEnv: 'WEBCHAT_TEST_UNSET_KEY', baseUrl: null };

  it('refuses a direct prompt with 500 internal and changes nothing', async () => {
    svc = await createChatService({ dbPath: ':memory:', profiles: new ProfileRegistry([{ ...DEMO_PROFILE, chunkDelayMs: 1 }, broken]) });
    await expect(prompt(svc, 'hi', 'c9', { runtimeKey: 'broken' })).rejects.toMatchObject({ code: 'internal', message: expect.stringMatching(/WEBCHAT_TEST_UNSET_KEY/) });
    expect((await svc.getTimeline('c9', null)).version).toBe(0);
    expect((await prompt(svc, 'hello', 'c9')).httpStatus).toBe(200);
  });

  it('drops a queued prompt visibly when its run cannot start, and the conversation is not left busy', async () => {
    svc = await createChatService({ dbPath: ':memory:', profiles: new ProfileRegistry([{ ...DEMO_PROFILE, chunkDelayMs: 1 }, broken]) });
    const ws = new FakeSocket();
    await svc.attachSocket('c8', ws, { since: null, epoch: null }, null);
    await prompt(svc, '/stream 20 1', 'c8');
    expect((await prompt(svc, 'queued on broken', 'c8', { runtimeKey: 'broken' })).httpStatus).toBe(202);
    await ws.waitFor(() => ws.events().some((e) => e.type === 'run.queued' && e.data.status === 'dropped'));
    const dropped = ws.events().find((e) => e.type === 'run.queued' && e.data.status === 'dropped')!;
    expect(dropped.data.reason).toBe('start_failed');
    expect(ws.events().some((e) => e.type === 'log' && /WEBCHAT_TEST_UNSET_KEY/.test(e.data.message))).toBe(true);
    const st = await svc.getConversation('c8', null);
    expect(st.queue).toEqual([]);
    expect(st.running).toBeNull();
    expect((await prompt(svc, 'next', 'c8')).httpStatus).toBe(200);
  });
});

describe('idempotency expiry', () => {
  it('a record expires 24 h after its run ended; then the key is free again', async () => {
    svc = await createChatService({ dbPath: ':memory:', profiles: new ProfileRegistry([{ ...DEMO_PROFILE, chunkDelayMs: 0 }]) });
    const ws = new FakeSocket();
    await svc.attachSocket('c7', ws, { since: null, epoch: null }, null);
    const first = await prompt(svc, 'hello', 'c7', { idempotencyKey: 'k1' });
    await ws.waitRunEnds(1);
    await svc.flush(); // the idempotency "ended" mark commits with a later batch
    expect((await prompt(svc, 'hello', 'c7', { idempotencyKey: 'k1' })).body).toEqual(first.body);
    expect(await svc.manager.expireIdempotency(Date.now())).toBe(0); // not yet 24 h
    expect(await svc.manager.expireIdempotency(Date.now() + 24 * 3600_000 + 1000)).toBe(1);
    const again = await prompt(svc, 'hello', 'c7', { idempotencyKey: 'k1' });
    expect(again.body.turn_id).not.toBe(first.body.turn_id);
  });
});

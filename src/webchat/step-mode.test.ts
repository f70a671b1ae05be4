import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineTool } from '../inference/tools/tool-definition';
import { evaluateArithmetic } from '../inference/tools/builtin/calc';
import { createChatService } from './create-chat-service';
import { ProfileRegistry } from './profile-registry';
import { ToolCatalog } from './run-builder';
import { DEMO_PROFILE, type RuntimeProfile } from './runtime-profile';
import { FakeSocket } from './testing/fake-socket';
import type { WebchatService } from './webchat-service';

let svc: WebchatService | null = null;
afterEach(async () => {
  await svc?.close();
  svc = null;
});

let executed = 0;
const countingCalc = defineTool({
  name: 'calc', description: 'arithmetic', schema: z.object({ expression: z.string() }),
  run: ({ expression }) => { executed++; return { expression, result: evaluateArithmetic(expression) }; },
});

async function setup(profile: Partial<RuntimeProfile> = {}) {
  executed = 0;
  svc = await createChatService({
    dbPath: ':memory:',
    catalog: new ToolCatalog([countingCalc]),
    profiles: new ProfileRegistry([{ ...DEMO_PROFILE, chunkDelayMs: 0, ...profile }, { ...DEMO_PROFILE, slug: 'other', chunkDelayMs: 0 }]),
  });
  const ws = new FakeSocket();
  await svc.attachSocket('c1', ws, { since: null, epoch: null }, null);
  return { s: svc, ws };
}

const send = (s: WebchatService, prompt: string, convId = 'c1') =>
  s.submitPrompt({ prompt, convId, runtimeKey: null, idempotencyKey: null, overrides: null, principal: null });
/** The first prompt of a conversation with step mode switched on (an unknown id has no step-mode route). */
const sendStepped = (s: WebchatService, prompt: string, convId = 'c1') =>
  s.submitPrompt({ prompt, convId, runtimeKey: null, idempotencyKey: null, overrides: { step_mode: true }, principal: null });
const pauses = (ws: FakeSocket) => ws.events().filter((e) => e.type === 'debugger.pause');
const resumes = (ws: FakeSocket) => ws.events().filter((e) => e.type === 'debugger.resume');
const waitPauses = (ws: FakeSocket, n: number) => ws.waitFor(() => pauses(ws).length >= n);

describe('step mode and approval', () => {
  it('pauses after_inference then after_tools, with the exact frames in order', async () => {
    const { s, ws } = await setup();
    await sendStepped(s, 'What is 2+3?');
    await waitPauses(ws, 1);
    const p1 = pauses(ws)[0]!;
    expect(p1.data).toMatchObject({ phase: 'after_inference', extra: { pendingTools: [{ name: 'calc', input: { expression: '2+3' } }] } });
    expect(executed).toBe(0);
    expect((await s.getConversation('c1', null)).open_pauses).toEqual([expect.objectContaining({ pause_id: p1.id, phase: 'after_inference' })]);
    const r1 = await s.resolvePause('c1', p1.id, 'continue', null, null);
    expect(r1.pause).toMatchObject({ phase: 'after_inference', resolution: 'continued', effect: 'continue' });
    await waitPauses(ws, 2);
    expect(pauses(ws)[1]!.data.phase).toBe('after_tools');
    expect(executed).toBe(1);
    await s.resolvePause('c1', pauses(ws)[1]!.id, 'continue', null, null);
    await ws.waitRunEnds(1);
    const types = ws.logFrames().map((f) => f.type).filter((t) => !t.startsWith('llm.'));
    expect(types).toEqual([
      'step.mode', 'chat.message', 'run.start', 'tool.start', 'debugger.pause', 'debugger.resume',
      'tool.delta', 'tool.result', 'tool.done', 'debugger.pause', 'debugger.resume', 'run.end',
    ]);
    const seqs = ws.logFrames().map((f) => f.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
  });

  it('deny: the tool never executes and the model gets the denial', async () => {
    const { s, ws } = await setup();
    await sendStepped(s, 'What is 2+3?');
    await waitPauses(ws, 1);
    await s.resolvePause('c1', pauses(ws)[0]!.id, 'deny', null, null);
    await waitPauses(ws, 2);
    await s.resolvePause('c1', pauses(ws)[1]!.id, 'continue', null, null);
    await ws.waitRunEnds(1);
    expect(executed).toBe(0);
    const result = ws.events().find((e) => e.type === 'tool.result')!;
    expect(result.data).toMatchObject({ status: 'denied', error: 'denied by operator' });
    const finals = ws.events().filter((e) => e.type === 'llm.final');
    expect(finals[finals.length - 1]!.data.text).toMatch(/could not compute that: denied/);
  });

  it('step timeout continues; approval timeout denies (fail closed)', async () => {
    const a = await setup({ stepTimeoutMs: 20 });
    await sendStepped(a.s, 'What is 2+3?');
    await a.ws.waitRunEnds(1);
    expect(resumes(a.ws).map((r) => r.data.resolution)).toEqual(['timeout', 'timeout']);
    expect(executed).toBe(1);
    await svc!.close();
    const b = await setup({ approvalTools: ['calc'], approvalTimeoutMs: 20 });
    await send(b.s, 'What is 2+3?');
    await b.ws.waitRunEnds(1);
    expect(resumes(b.ws).map((r) => [r.data.resolution, r.data.effect])).toEqual([['timeout', 'deny']]);
    expect(executed).toBe(0);
  });

  it('disabling step mode releases step pauses only; approval pauses stay open', async () => {
    const { s, ws } = await setup({ approvalTools: ['calc'] });
    await sendStepped(s, 'What is 2+3?');
    await waitPauses(ws, 1);
    // step mode on + approval tool: one pause, phase approval
    expect(pauses(ws)[0]!.data.phase).toBe('approval');
    await s.setStepMode('c1', false, null);
    expect(resumes(ws)).toHaveLength(0);
    await s.resolvePause('c1', pauses(ws)[0]!.id, 'approve', null, null);
    await ws.waitRunEnds(1);
    expect(pauses(ws)).toHaveLength(1); // step mode off: no after_tools pause
    expect(executed).toBe(1);

    await s.setStepMode('c1', true, null);
    await send(s, '/stream 3 0');
    await send(s, 'What is 1+1?');
    await ws.waitFor(() => pauses(ws).length >= 2);
    expect(pauses(ws)[1]!.data.phase).toBe('approval');
  });

  it('cancel during a pause: one run.end, the pause resolved aborted', async () => {
    const { s, ws } = await setup();
    await sendStepped(s, 'What is 2+3?');
    await waitPauses(ws, 1);
    const c = await s.cancel('c1', { inferenceId: null, clearQueue: false }, null);
    expect(c.status).toBe('cancelled');
    await ws.waitRunEnds(1);
    expect(ws.events().filter((e) => e.type === 'run.end')).toHaveLength(1);
    expect(resumes(ws).map((r) => r.data.resolution)).toEqual(['aborted']);
    expect((await s.getConversation('c1', null)).open_pauses).toEqual([]);
    await expect(s.resolvePause('c1', pauses(ws)[0]!.id, 'continue', null, null)).rejects.toMatchObject({ code: 'pause_resolved' });
  });

  it('abort action ends the run cancelled / pause_abort', async () => {
    const { s, ws } = await setup();
    await sendStepped(s, 'What is 2+3?');
    await waitPauses(ws, 1);
    await s.resolvePause('c1', pauses(ws)[0]!.id, 'abort', null, null);
    await ws.waitRunEnds(1);
    expect(ws.events().find((e) => e.type === 'run.end')!.data).toMatchObject({ status: 'cancelled', reason: 'pause_abort' });
    expect(executed).toBe(0);
  });

  it('errors: second resolve 409, unknown 404, other conversation 403, deny at after_tools 409', async () => {
    const { s, ws } = await setup();
    await send(s, '/stream 1 0', 'c2');
    await sendStepped(s, 'What is 2+3?');
    await waitPauses(ws, 1);
    const id = pauses(ws)[0]!.id;
    await expect(s.resolvePause('c1', 'nope', 'continue', null, null)).rejects.toMatchObject({ code: 'pause_not_found' });
    await expect(s.resolvePause('c2', id, 'continue', null, null)).rejects.toMatchObject({ code: 'forbidden' });
    await s.resolvePause('c1', id, 'continue', null, null);
    await expect(s.resolvePause('c1', id, 'continue', null, null)).rejects.toMatchObject({ code: 'pause_resolved' });
    await waitPauses(ws, 2);
    await expect(s.resolvePause('c1', pauses(ws)[1]!.id, 'deny', null, null)).rejects.toMatchObject({ code: 'invalid_action' });
    await s.resolvePause(null, pauses(ws)[1]!.id, 'continue', null, null); // the debug alias form (no conv id)
    await ws.waitRunEnds(1);
  });

  it('approval tool without step mode: one approval pause for the whole batch, nothing runs first', async () => {
    const { s, ws } = await setup({ approvalTools: ['calc'] });
    await send(s, '/tools 3');
    await waitPauses(ws, 1);
    const p = pauses(ws)[0]!;
    expect(p.data.phase).toBe('approval');
    expect(p.data.extra.pendingTools).toHaveLength(3);
    expect(executed).toBe(0);
    const ids = p.data.extra.pendingTools.map((t: { id: string }) => t.id);
    await s.resolvePause('c1', p.id, 'approve', [ids[0], ids[2]], null);
    await ws.waitRunEnds(1);
    expect(pauses(ws)).toHaveLength(1);
    expect(executed).toBe(2);
    expect(ws.events().filter((e) => e.type === 'tool.result').map((e) => e.data.status).sort()).toEqual(['completed', 'completed', 'denied']);
  });
});

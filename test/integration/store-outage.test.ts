import { afterAll, describe, expect, it } from 'vitest';
import { storeFaults, STORE_FAULTS_ENV } from '../../src/webchat/testing/store-faults';
import type { WebchatService } from '../../src/webchat/webchat-service';
import { useServer } from '../helpers/fixture';
import { startServer } from '../helpers/server';

/**
 * A store that fails every write for longer than a run (a full disk), through the test-only
 * fault hook (`WEBCHAT_TEST_STORE_FAULTS=1`, set only here): every store write of the run —
 * frames, run rows, turn snapshots — is retried until the store takes it, so the run ends as it
 * really ended (`completed`) and its answer is in the stored turns and the next prompt's
 * history; a prompt during the outage is refused at once with 503 `not_ready` and changes
 * nothing; /readyz reports not ready meanwhile.
 */

process.env[STORE_FAULTS_ENV] = '1';
const fx = useServer();
afterAll(() => {
  storeFaults.failWrites = false;
  delete process.env[STORE_FAULTS_ENV];
});
const service = () => fx.srv.running.service as WebchatService;

const until = async (pred: () => boolean, what: string) => {
  for (let i = 0; i < 3000 && !pred(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!pred()) throw new Error(`timed out waiting for ${what}`);
};
const texts = (turn: { blocks: { kind: string; text?: string }[] }, kind: string) => turn.blocks.filter((b) => b.kind === kind).map((b) => b.text);
const ANSWER = Array.from({ length: 40 }, (_, i) => `w${i + 1}`).join(' ');

describe('the store fails writes for longer than a run', () => {
  it('the run ends completed, its answer is stored once the store is back; prompts and other changes meanwhile get 503 at once', async () => {
    const convId = 'outage-1';
    const ws = await fx.open(convId);
    const started = await fx.srv.api.chat({ prompt: '/stream 40 5', conv_id: convId });
    expect([started.status, started.json.status]).toEqual([200, 'started']);

    storeFaults.refused = 0;
    storeFaults.failWrites = true;
    // the run streams to its end in memory while every commit fails (commits are retried)
    await until(() => storeFaults.refused > 0 && service().manager.peek(convId)!.running === null, 'the run to end during the outage');

    // during the outage: not ready, and every prompt refused without being accepted
    const ready = await fx.srv.api.get('/readyz');
    expect([ready.status, ready.json.error.code, ready.json.error.details.checks.commits]).toEqual([503, 'not_ready', false]);
    const loaded = service().manager.loadedCount;
    const refusals = [
      await fx.srv.api.chat({ prompt: 'during the outage', conv_id: convId }),
      await fx.srv.api.chat({ prompt: 'a new conversation', conv_id: 'outage-new' }),
      await fx.srv.api.chat({ prompt: 'keyed', conv_id: convId, idempotency_key: 'outage-key' }),
      await fx.srv.api.chat({ prompt: 'no conversation id' }),
    ];
    // every other change is refused the same way (its answer would wait for a commit)
    refusals.push(
      await fx.srv.api.cancel(convId, {}),
      await fx.srv.api.request('PUT', `/api/conversations/${convId}/step-mode`, { json: { enabled: true } }),
      await fx.srv.api.request('DELETE', `/api/conversations/${convId}`),
    );
    for (const r of refusals) {
      expect([r.status, r.json.error.code, Object.keys(r.json.error).sort()]).toEqual([503, 'not_ready', ['code', 'details', 'message']]);
    }
    expect(storeFaults.failWrites).toBe(true); // the answers came while the store was still failing
    expect(service().manager.loadedCount).toBe(loaded);
    expect(ws.count('run.end')).toBe(0); // nothing uncommitted was visible

    storeFaults.failWrites = false;
    await ws.waitType('run.end');
    const end = ws.ofType('run.end')[0]!.data;
    expect([end.status, end.reason, end.error]).toEqual(['completed', 'completed', null]);
    expect((await fx.srv.api.get('/readyz')).status).toBe(200);

    // nothing of the refused prompts exists
    const state = (await fx.srv.api.conversation(convId)).json;
    expect([state.queue, state.running, state.step_mode]).toEqual([[], null, false]);
    expect(ws.ofType('chat.message').map((f) => f.data.content)).toEqual(['/stream 40 5']);
    expect((await fx.srv.api.conversation('outage-new')).status).toBe(404);
    // the stored turn holds the whole answer
    const turns = (await fx.srv.api.get(`/api/conversations/${convId}/turns?full=true`)).json.turns;
    expect(turns).toHaveLength(1);
    expect(turns[0].status).toBe('completed');
    expect(texts(turns[0], 'llm_text')).toEqual([ANSWER]);

    // the refused idempotency key was never recorded: a different prompt may use it
    const next = await fx.srv.api.chat({ prompt: 'What is 2+2?', conv_id: convId, idempotency_key: 'outage-key' });
    expect([next.status, next.json.status]).toEqual([200, 'started']);
    await ws.waitType('run.end', 2);
    expect(ws.ofType('run.end')[1]!.data.status).toBe('completed');

    // across a restart (history read back from the store): the next prompt's history has the answer
    await fx.srv.close();
    fx.srv = await startServer(fx.dir, { db: fx.srv.dbPath });
    const ws2 = await fx.open(convId, { since: 0 });
    const third = await fx.srv.api.chat({ prompt: 'and again', conv_id: convId });
    expect(third.status).toBe(200);
    await ws2.waitType('run.end', 3);
    const after = (await fx.srv.api.get(`/api/conversations/${convId}/turns?full=true`)).json.turns;
    expect(after.map((t: { status: string }) => t.status)).toEqual(['completed', 'completed', 'completed']);
    expect(texts(after[2], 'user')).toEqual(['/stream 40 5', 'What is 2+2?', 'and again']);
    expect(texts(after[2], 'llm_text')[0]).toBe(ANSWER);
    expect(ws2.ofType('run.end').map((f) => f.data.status)).toEqual(['completed', 'completed', 'completed']);
  });
});

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawnServer, tempDir, writeProfiles, type ChildServer, type TempDir } from '../helpers/server';
import { firstSeqProblem, frameProblems, WsClient } from '../helpers/ws-client';

/**
 * kill -9 during heavy concurrent streaming (D2, D5, the chunked log of sqlite-log.ts): 50
 * conversations stream at once (demo `/stream N 0`), one socket each; the server is killed at
 * five points — three after a number of frames delivered, two INSIDE a log index flush (the
 * test-only hook WEBCHAT_TEST_KILL_AT_INDEX_FLUSH makes the server SIGKILL itself within the
 * commit transaction of its Nth flush, index rows written, not committed). After a restart on
 * the same file: every frame any client saw is in the log, byte-identical at its seq; the log
 * is contiguous from 1 (no seq lost or reused, the closers appended after the last seen seq);
 * every run has exactly one run.end, and the runs the crash cut are closed `interrupted`.
 */

const CONVS = 50;
const WORDS = 3_000;

let dir: TempDir;
let profilesPath: string;
const children: ChildServer[] = [];
const sockets: WsClient[] = [];

beforeAll(() => {
  dir = tempDir();
  profilesPath = writeProfiles(dir);
});
afterEach(async () => {
  expect(frameProblems(sockets)).toEqual([]);
  for (const s of sockets.splice(0)) s.terminate();
  for (const c of children.splice(0)) await c.kill9();
});
afterAll(() => dir?.remove());

type KillPoint = { label: string; afterFrames?: number; flush?: number };
const POINTS: KillPoint[] = [
  { label: 'early, runs starting', afterFrames: 300 },
  { label: 'mid-stream', afterFrames: 5_000 },
  { label: 'late', afterFrames: 20_000 },
  { label: 'inside the first index flush', flush: 1 },
  { label: 'inside the fifth index flush', flush: 5 },
];

describe('kill -9 while 50 conversations stream, restart on the same database', () => {
  it.each(POINTS)('$label: nothing a client saw is lost or changed, no seq reused, cut runs interrupted', async (point) => {
    const db = dir.file(`crash-${point.label.replace(/\W+/g, '-')}.db`);
    // the flush kill points: tiny index batches so flushes happen within the first frames
    // (a stream gains one chunk per commit it has frames in; with the store on its worker
    // thread commits are fewer and larger, so a batch of 8 put the fifth flush at the end)
    const env: Record<string, string> = point.flush ? { WEBCHAT_TEST_KILL_AT_INDEX_FLUSH: String(point.flush), WEBCHAT_TEST_INDEX_FLUSH_CHUNKS: '2' } : {};
    const first = await spawnServer({ db, profilesPath, env });
    children.push(first);
    const ids = Array.from({ length: CONVS }, (_, i) => `crash-many-${i}`);
    const clients = await Promise.all(ids.map((id) => WsClient.open(first.wsBase, id)));
    sockets.push(...clients);
    const runs = await Promise.all(ids.map((conv_id) => first.api.chat({ prompt: `/stream ${WORDS} 0`, conv_id }).catch(() => null)));
    const seen = () => clients.reduce((n, c) => n + c.log.length, 0);
    if (point.afterFrames) {
      await clients[0]!.waitFor(() => seen() >= point.afterFrames!, `${point.afterFrames} frames`, { timeoutMs: 60_000 });
      await first.kill9();
    } else {
      // it kills itself (perhaps already while the prompts were being posted)
      if (first.child.exitCode === null && first.child.signalCode === null) await new Promise<void>((resolve) => first.child.once('exit', () => resolve()));
      expect(first.child.signalCode).toBe('SIGKILL');
    }
    await Promise.all(clients.map((c) => c.waitClose()));

    const second = await spawnServer({ db, profilesPath });
    children.push(second);
    let interrupted = 0;
    for (let i = 0; i < CONVS; i++) {
      const c = clients[i]!;
      const found = await second.api.events(ids[i]!, 0, 1);
      const accepted = runs[i]?.status === 200 ? (runs[i]!.json.inference_id as string) : null;
      if (found.status === 404) {
        // the crash came before this conversation's first commit: nobody saw anything of it,
        // and its prompt was not answered (the answer waits for run.start's commit)
        expect(found.json.error.code).toBe('conversation_not_found');
        expect(c.log, ids[i]).toEqual([]);
        expect(accepted, ids[i]).toBeNull();
        continue;
      }
      const log = await second.api.allEvents(ids[i]!);
      const seqs = log.frames.map((f) => f.event.seq as number);
      expect(firstSeqProblem(seqs, 1), ids[i]).toBeNull();
      for (const f of c.log) expect(log.raw[f.seq! - 1], `${ids[i]} seq ${f.seq}`).toBe(f.raw);
      const events = log.frames.map((f) => f.event);
      const started = events.filter((e) => e.type === 'run.start');
      for (const s of started) {
        const ends = events.filter((e) => e.type === 'run.end' && e.data.inferenceId === s.data.inferenceId);
        expect(ends, `${ids[i]} run ${s.data.inferenceId}`).toHaveLength(1);
        if (ends[0].data.status === 'interrupted') {
          interrupted++;
          expect(ends[0].data.reason).toBe('shutdown');
          expect(ends[0].seq).toBeGreaterThan(c.lastSeq); // appended after everything a client saw
        } else {
          expect(ends[0].data.status).toBe('completed');
        }
      }
      // a prompt answered before the crash has its run in the log (the answer waited for its commit)
      if (accepted) expect(started.map((s) => s.data.inferenceId)).toContain(accepted);
    }
    expect(interrupted).toBeGreaterThan(0); // the kill cut streams mid-way
  }, 120_000);
});

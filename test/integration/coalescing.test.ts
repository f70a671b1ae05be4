import { describe, expect, it } from 'vitest';
import { useServer } from '../helpers/fixture';
import { firstSeqProblem, type Frame, type WsClient } from '../helpers/ws-client';

/**
 * Delta coalescing (`--coalesce-ms`): consecutive deltas of one message produced within the
 * window become one frame. The text is identical, offsets stay exact, seqs stay contiguous, and
 * there are fewer frames than deltas produced.
 */

const fx = useServer({ args: ['--coalesce-ms', '25'] });

/** Every message's deltas: offsets exact (each = the text before it) and concatenation = final text. */
function checkMessages(c: WsClient, deltaType: string, finalType: string): { deltas: number; texts: string[] } {
  const texts: string[] = [];
  let deltas = 0;
  for (const fin of c.ofType(finalType)) {
    const ds: Frame[] = c.log.filter((f) => f.type === deltaType && f.id === fin.id);
    let text = '';
    for (const d of ds) {
      expect(d.data.offset, `offset of delta seq ${d.seq}`).toBe(text.length);
      expect(d.seq!).toBeLessThan(fin.seq!);
      text += d.data.delta;
    }
    expect(text).toBe(fin.data.text);
    deltas += ds.length;
    texts.push(text);
  }
  return { deltas, texts };
}

describe('delta coalescing', () => {
  it('a stream of 300 words: identical text, exact offsets, contiguous seqs, fewer frames', async () => {
    const convId = 'coalesce-stream';
    const c = await fx.open(convId);
    const r = await fx.srv.api.chat({ prompt: '/stream 300 1', conv_id: convId });
    expect(r.status).toBe(200);
    await c.waitType('run.end');
    await fx.srv.api.waitIdle(convId);
    const { deltas, texts } = checkMessages(c, 'llm.delta', 'llm.final');
    expect(texts).toHaveLength(1);
    expect(texts[0]!.trim().split(/\s+/)).toHaveLength(300);
    expect(deltas).toBeGreaterThan(0);
    expect(deltas).toBeLessThan(300);
    expect(firstSeqProblem(c.log.map((f) => f.seq!), 1)).toBeNull();
    // the log over HTTP holds exactly what the socket got
    const all = await fx.srv.api.allEvents(convId);
    expect(all.raw).toEqual(c.log.map((f) => f.raw));
  });

  it('thinking deltas are coalesced too, with exact offsets', async () => {
    const convId = 'coalesce-think';
    const c = await fx.open(convId);
    await fx.srv.api.chat({ prompt: '/think', conv_id: convId });
    await c.waitType('run.end');
    checkMessages(c, 'llm.thinking.delta', 'llm.thinking.final');
    checkMessages(c, 'llm.delta', 'llm.final');
    expect(c.ofType('llm.thinking.final')).toHaveLength(1);
  });

  it('Stop during a stream: the held text lands before the closing llm.final, which equals the deltas', async () => {
    const convId = 'coalesce-cancel';
    const c = await fx.open(convId);
    await fx.srv.api.chat({ prompt: '/stream 5000 1', conv_id: convId });
    await c.waitFor(() => c.count('llm.delta') >= 3, '3 delta frames');
    const res = await fx.srv.api.cancel(convId);
    expect(res.json.status).toBe('cancelled');
    await c.waitType('run.end');
    await fx.srv.api.waitIdle(convId);
    const { texts } = checkMessages(c, 'llm.delta', 'llm.final');
    expect(texts).toHaveLength(1);
    const types = c.log.map((f) => f.type);
    expect(types.lastIndexOf('llm.delta')).toBeLessThan(types.indexOf('llm.final'));
    expect(types.filter((t) => t === 'run.end')).toHaveLength(1);
    expect(c.ofType('run.end')[0]!.data.status).toBe('cancelled');
  });
});

/**
 * The frames a `/stream N` (or bench `/stamp N MS`) run produces, serialized exactly as our
 * server serializes them (src/webchat/conversation-log.ts: `JSON.stringify({sem: true, event})`
 * with the same fields, ids and metadata), so the baselines send the same bytes.
 */
import { randomUUID } from 'node:crypto';

const env = (type: string, id: string, seq: number | null, data: unknown, metadata: unknown = null) =>
  JSON.stringify({ sem: true, event: { type, id, seq, stream_id: null, data, metadata } });

export function helloFrame(convId: string, lastSeq: number, epoch: string): string {
  const now = Date.now();
  return env('ws.hello', `ws.hello:${convId}:${now}`, null, { convId, runtimeKey: 'fast', serverTime: now, lastSeq, epoch, protocolVersion: 1 });
}

/** Word chunks of `/stream N` (w1, " w2", …). */
export function wordDeltas(n: number): string[] {
  const out: string[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = (i === 0 ? 'w' : ' w') + (i + 1);
  return out;
}

export interface RunFrames {
  /** chat.message, run.start, llm.start */
  head: string[];
  /** One frame per delta (pre-serialized), or null for stamped runs (serialized at send time). */
  deltas: string[] | null;
  /** Builds the frame of delta `i` with its text (stamped runs). */
  delta(seq: number, text: string, offset: number): string;
  /** llm.final, run.end, given the final text (status cancelled: the run was stopped). */
  tail(text: string, seqAfterDeltas: number, status?: 'completed' | 'cancelled'): string[];
}

/** The frames of one run starting at `firstSeq` (chat.message). */
export function runFrames(convId: string, prompt: string, firstSeq: number, deltas: string[] | null): RunFrames {
  const turnId = randomUUID();
  const inferenceId = randomUUID();
  const msgId = randomUUID();
  const head = [
    env('chat.message', `user-${turnId}`, firstSeq, { schemaVersion: 1, role: 'user', content: prompt, turnId }),
    env('run.start', inferenceId, firstSeq + 1, { inferenceId, turnId, sessionId: convId, runtimeKey: 'fast' }),
    env('llm.start', msgId, firstSeq + 2, { id: msgId, role: 'assistant' }, { model: 'demo-1', stopReason: null, usage: null, durationMs: null }),
  ];
  // the delta frame, split around its variable parts (seq, delta, offset)
  const probe = env('llm.delta', msgId, 987654321, { id: msgId, delta: '\u0001', offset: 123456789 });
  const [a, rest] = probe.split('987654321') as [string, string];
  const [b, rest2] = rest.split('"\\u0001"') as [string, string];
  const [c, d] = rest2.split('123456789') as [string, string];
  const delta = (seq: number, text: string, offset: number) => a + seq + b + JSON.stringify(text) + c + offset + d;
  let pre: string[] | null = null;
  if (deltas) {
    pre = new Array(deltas.length);
    let offset = 0;
    for (let i = 0; i < deltas.length; i++) {
      pre[i] = delta(firstSeq + 3 + i, deltas[i]!, offset);
      offset += deltas[i]!.length;
    }
  }
  const tail = (text: string, seq: number, status: 'completed' | 'cancelled' = 'completed') => {
    const usage = { inputTokens: 21, outputTokens: text ? text.split(' ').length : 0, cachedTokens: 0 };
    return [
      env('llm.final', msgId, seq, { id: msgId, text }, { model: 'demo-1', stopReason: 'stop', usage, durationMs: 1 }),
      env('run.end', inferenceId, seq + 1, { inferenceId, turnId, status, reason: status === 'completed' ? 'completed' : 'user_cancel', error: null, usage }),
    ];
  };
  return { head, deltas: pre, delta, tail };
}

/** `/stream N [MS]` or `/stamp N MS`. */
export function parsePrompt(prompt: string): { kind: 'stream' | 'stamp'; n: number; ms: number } | null {
  const m = /^\/(stream|stamp)\s+(\d+)(?:\s+(\d+))?\s*$/.exec(prompt.trim());
  return m ? { kind: m[1] as 'stream' | 'stamp', n: Number(m[2]), ms: m[3] ? Number(m[3]) : 0 } : null;
}

/** A stamp delta's text, as the bench demo command `/stamp` writes it. */
export const stampText = (i: number) => `${i === 0 ? '' : ' '}t${(performance.timeOrigin + performance.now()).toFixed(3)}`;

/**
 * Load generator of `peer` (a child process of bench/run.ts): POSTs a prompt to the AI SDK
 * route and reads its UI message stream (SSE), verifying every chunk: start … text-start,
 * text-delta × N whose concatenation is the produced text, text-end … finish, [DONE].
 */
import { now, wordsText } from './lib/verify';

export interface SseRun {
  type: 'run';
  url: string;
  prompt: string;
  words: number;
}
export interface SseReport {
  deltas: number;
  chars: number;
  t0: number;
  tLast: number;
  bytes: number;
}

async function run(cmd: SseRun): Promise<SseReport> {
  const t0 = now();
  const res = await fetch(cmd.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: cmd.prompt }) });
  if (res.status !== 200 || !res.body) throw new Error(`AI SDK route answered ${res.status}`);
  const decoder = new TextDecoder();
  let buf = '';
  let text = '';
  let deltas = 0;
  let bytes = 0;
  let done = false;
  let tLast = 0;
  const types: string[] = [];
  const onEvent = (data: string) => {
    if (data === '[DONE]') {
      done = true;
      return;
    }
    const c = JSON.parse(data) as { type: string; delta?: string };
    if (c.type === 'text-delta') {
      text += c.delta;
      deltas++;
    } else types.push(c.type);
  };
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    bytes += chunk.byteLength;
    buf += decoder.decode(chunk, { stream: true });
    let i: number;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const ev = buf.slice(0, i);
      buf = buf.slice(i + 2);
      for (const line of ev.split('\n')) if (line.startsWith('data: ')) onEvent(line.slice(6));
    }
    tLast = now();
  }
  if (!done) throw new Error('the UI message stream ended without [DONE]');
  const want = wordsText(cmd.words);
  if (deltas !== cmd.words) throw new Error(`${deltas} text-delta chunks, expected ${cmd.words}`);
  if (text !== want) throw new Error('the text-delta chunks do not concatenate to the produced text');
  const shape = types.join(',');
  if (shape !== 'start,start-step,text-start,text-end,finish-step,finish') throw new Error(`unexpected UI chunk sequence: ${shape}`);
  return { deltas, chars: text.length, t0, tLast, bytes };
}

process.on('message', (m: SseRun | { type: 'exit' }) => {
  if (m.type === 'exit') process.exit(0);
  run(m).then(
    (report) => process.send!({ type: 'done', report }),
    (err: unknown) => process.send!({ type: 'error', error: err instanceof Error ? err.message : String(err) }),
  );
});
process.on('disconnect', () => process.exit(0));
process.send!({ type: 'ready' });

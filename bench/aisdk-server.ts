/**
 * Baseline of `peer`: the Vercel AI SDK route a user would write instead — `streamText` with
 * the SDK's mock model (ai/test `MockLanguageModelV3` fed by `simulateReadableStream`, no
 * delays) producing the same tokens as our demo `/stream N` (w1, " w2", …), piped as the UI
 * message stream over SSE (`pipeUIMessageStreamToResponse`). `POST /api/chat {prompt}`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { simulateReadableStream, streamText } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { parsePrompt, wordDeltas } from './lib/frames';

type StreamResult = Awaited<ReturnType<MockLanguageModelV3['doStream']>>;
type Part = StreamResult['stream'] extends ReadableStream<infer P> ? P : never;

function modelFor(words: number): MockLanguageModelV3 {
  return new MockLanguageModelV3({
    doStream: async () => {
      const chunks: Part[] = [{ type: 'stream-start', warnings: [] }, { type: 'text-start', id: 't1' }];
      for (const w of wordDeltas(words)) chunks.push({ type: 'text-delta', id: 't1', delta: w });
      chunks.push({ type: 'text-end', id: 't1' });
      chunks.push({
        type: 'finish',
        finishReason: { unified: 'stop', raw: 'stop' },
        usage: {
          inputTokens: { total: 21, noCache: 21, cacheRead: 0, cacheWrite: 0 },
          outputTokens: { total: words, text: words, reasoning: 0 },
        },
      } as Part);
      return { stream: simulateReadableStream({ chunks, initialDelayInMs: null, chunkDelayInMs: null }) };
    },
  });
}

const server = createServer((req, res) => {
  const body: Buffer[] = [];
  req.on('data', (d: Buffer) => body.push(d));
  req.on('end', () => {
    let prompt = '';
    try {
      prompt = String(JSON.parse(Buffer.concat(body).toString()).prompt ?? '');
    } catch {
      /* bad body */
    }
    const p = parsePrompt(prompt);
    if (req.method !== 'POST' || req.url !== '/api/chat' || !p) {
      res.writeHead(400).end('POST /api/chat {"prompt": "/stream N"}');
      return;
    }
    const result = streamText({ model: modelFor(p.n), prompt });
    result.pipeUIMessageStreamToResponse(res);
  });
});
server.listen(0, '127.0.0.1', () => process.send!({ type: 'listening', port: (server.address() as AddressInfo).port }));
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));

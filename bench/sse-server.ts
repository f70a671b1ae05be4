/**
 * The recorded-SSE OpenAI server of `sdk-e2e`: the providers' replay server
 * (src/providers/testing/replay-server.ts) answering each request with the next fixture — a
 * Chat Completions stream in OpenAI's wire format (same chunk shape as the recorded fixtures)
 * whose content deltas are the words of `/stream N`, written at full speed (64 events per
 * write). IPC: `{type:'push', words}` queues the answer of the next request.
 */
import { ReplayServer, sse } from '../src/providers/testing/replay-server';
import { wordDeltas } from './lib/frames';

const ID = 'chatcmpl-BqR7nT2kPz0aX4dYcGvQe1mHsLw9';
const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
  sse({
    id: ID, object: 'chat.completion.chunk', created: 1752000000, model: 'gpt-4o-mini-2024-07-18', service_tier: 'default',
    system_fingerprint: 'fp_34a54ae93c', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], usage: null,
  });
const usage = (out: number) =>
  sse({
    id: ID, object: 'chat.completion.chunk', created: 1752000000, model: 'gpt-4o-mini-2024-07-18', service_tier: 'default',
    system_fingerprint: 'fp_34a54ae93c', choices: [],
    usage: {
      prompt_tokens: 21, completion_tokens: out, total_tokens: 21 + out, prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
    },
  });

/** SSE events per write (BENCH_SSE_PER_WRITE): 64 ≈ 16 KiB writes. */
const PER_WRITE = Number(process.env.BENCH_SSE_PER_WRITE ?? 64);

function answer(words: number): string[] {
  const events = [chunk({ role: 'assistant', content: '', refusal: null }), ...wordDeltas(words).map((w) => chunk({ content: w })), chunk({}, 'stop'), usage(words), 'data: [DONE]\n\n'];
  const writes: string[] = [];
  for (let i = 0; i < events.length; i += PER_WRITE) writes.push(events.slice(i, i + PER_WRITE).join(''));
  return writes;
}

const server = await ReplayServer.start();
process.on('message', (m: { type: 'push'; words: number }) => {
  if (m.type === 'push') {
    server.push({ name: `stream ${m.words}`, chunks: answer(m.words) });
    process.send!({ type: 'pushed' });
  }
});
process.send!({ type: 'listening', port: Number(new URL(server.url).port) });
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => {
  void server.close().finally(() => process.exit(0));
});

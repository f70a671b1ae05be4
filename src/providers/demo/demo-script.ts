/**
 * What the demo engine does for a prompt (runtime.md "The demo engine"). Pure: parsing only.
 */
export type DemoPlan =
  | { kind: 'stream'; words: number; delayMs: number | null }
  | { kind: 'tools'; count: number }
  | { kind: 'think' }
  | { kind: 'error'; code: string }
  | { kind: 'calc'; expression: string }
  | { kind: 'echo'; prompt: string }
  /** Bench only (`WEBCHAT_BENCH=1`): N deltas whose text is their production time (see bench/). */
  | { kind: 'stamp'; count: number; delayMs: number };

const MAX_STREAM_WORDS = 1_000_000;
const MAX_TOOLS = 16;

export function planFor(prompt: string, opts: { bench?: boolean } = {}): DemoPlan {
  const p = prompt.trim();
  let m: RegExpExecArray | null;
  if (opts.bench && (m = /^\/stamp\s+(\d+)\s+(\d+)\s*$/.exec(p))) {
    return { kind: 'stamp', count: Math.min(Number(m[1]), MAX_STREAM_WORDS), delayMs: Number(m[2]) };
  }
  m = /^\/stream\s+(\d+)(?:\s+(\d+))?\s*$/.exec(p);
  if (m) return { kind: 'stream', words: Math.min(Number(m[1]), MAX_STREAM_WORDS), delayMs: m[2] !== undefined ? Number(m[2]) : null };
  m = /^\/tools\s+(\d+)\s*$/.exec(p);
  if (m) return { kind: 'tools', count: Math.max(1, Math.min(Number(m[1]), MAX_TOOLS)) };
  if (/^\/think\b/.test(p)) return { kind: 'think' };
  m = /^\/error\s+([a-z_]+)\s*$/.exec(p);
  if (m) return { kind: 'error', code: m[1]! };
  const expr = findArithmetic(p);
  if (expr) return { kind: 'calc', expression: expr };
  return { kind: 'echo', prompt };
}

/** The first substring that looks like arithmetic with at least one binary operator. */
export function findArithmetic(text: string): string | null {
  const candidates = text.match(/-?[\d(][\d\s.+\-*/%^()]*/g) ?? [];
  for (const c of candidates) {
    const expr = c.trim().replace(/[\s+\-*/%^(]+$/, '');
    if (/\d\s*\)*\s*[-+*/%^]\s*[(\s-]*\d/.test(expr)) return expr;
  }
  return null;
}

/** The deterministic reply to a prompt that is not a command. */
export function echoReply(prompt: string): string {
  return `You said: "${prompt}". This is the offline demo engine: try "What is (4*5)-1?", /stream 50, /tools 3, /think or /error provider_rate_limited.`;
}

export function streamText(words: number): string {
  const parts: string[] = new Array(words);
  for (let i = 0; i < words; i++) parts[i] = (i === 0 ? 'w' : ' w') + (i + 1);
  return parts.join('');
}

/** Splits text into word chunks ("Hello", " world", …) so deltas look like a model's. */
export function wordChunks(text: string): string[] {
  return text.match(/\s*\S+/g) ?? (text ? [text] : []);
}

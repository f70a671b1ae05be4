import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

/**
 * Browser-test harness: a real server as a child process (`bin/moments-webchat.mjs serve`) on a
 * SQLite file, Debian's Chromium through playwright-core (never a downloaded browser), and
 * helpers that read what the page shows.
 */

export const REPO_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
export const ARTIFACTS = join(REPO_ROOT, 'test-artifacts');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function tempDb(): { db: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'mw-browser-'));
  return { db: join(dir, 'webchat.db'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface ServerProcess {
  url: string;
  port: number;
  child: ChildProcess;
  /** SIGTERM (graceful) or SIGKILL; resolves when the process is gone. */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
}

function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(OPENAI|ANTHROPIC|GEMINI|GOOGLE)_/.test(k) || k.startsWith('WEBCHAT_')) continue;
    env[k] = v;
  }
  return { ...env, WEBCHAT_LOG_LEVEL: 'warn', ...extra };
}

/** Starts the server and waits for `moments-webchat listening on http://…`. */
export function startServer(opts: { db: string; port?: number; args?: string[]; env?: Record<string, string> }): Promise<ServerProcess> {
  const args = [join(REPO_ROOT, 'bin/moments-webchat.mjs'), 'serve', '--port', String(opts.port ?? 0), '--host', '127.0.0.1', '--db', opts.db, ...(opts.args ?? [])];
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env: childEnv(opts.env ?? {}), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += String(d)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start in 30 s\nstdout: ${out}\nstderr: ${err}`));
    }, 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before listening\nstdout: ${out}\nstderr: ${err}`));
    });
    child.stdout!.on('data', (d: Buffer) => {
      out += String(d);
      const m = /moments-webchat listening on (http:\/\/[^\s/]+:(\d+))/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      resolvePromise({
        url: m[1]!,
        port: Number(m[2]),
        child,
        stop: async (signal = 'SIGTERM') => {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          await exited;
        },
      });
    });
  });
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Collects page errors and console errors, and records `window.__pwned`-style mischief. */
export function watchPage(page: Page): { errors: string[] } {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  return { errors };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: false });
  return path;
}

export const LONG = { timeout: 30_000 };

/** Types a prompt into the composer and presses Enter. */
export async function sendPrompt(page: Page, text: string): Promise<void> {
  const box = page.getByTestId('prompt-input');
  await box.fill(text);
  await box.press('Enter');
}

/** The conversation id from the page URL (`/c/<id>`). */
export async function convIdOf(page: Page): Promise<string> {
  await page.waitForURL(/\/c\/[A-Za-z0-9_-]+$/, LONG);
  return /\/c\/([A-Za-z0-9_-]+)$/.exec(page.url())![1]!;
}

/** What the transcript shows, row by row (`kind: text`), without this tab's own pending rows. */
export async function renderedTranscript(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    const root = document.querySelector('[data-testid="transcript"]');
    if (!root) return out;
    for (const el of Array.from(root.children) as HTMLElement[]) {
      const tid = el.getAttribute('data-testid') ?? el.querySelector('[data-testid]')?.getAttribute('data-testid') ?? el.className;
      let text: string;
      if (tid === 'tool-card') {
        const card = el.querySelector('[data-testid="tool-card"]') as HTMLElement;
        const q = (s: string) => (card.querySelector(`[data-testid="${s}"]`) as HTMLElement | null)?.textContent ?? '';
        text = `${q('tool-name')} ${card.dataset.status} ${q('tool-input')} => ${q('tool-result')}`;
      } else if (tid === 'msg-assistant') {
        text = ((el.querySelector('.md') as HTMLElement | null)?.innerText ?? '').trim();
      } else {
        text = el.innerText.trim();
      }
      out.push(`${tid}: ${text}`);
    }
    return out;
  });
}

/** GET `/api/timeline` of a conversation. */
export async function timeline(base: string, convId: string): Promise<{
  version: number;
  conversation: { running: unknown; queue: { prompt: string }[] };
  entities: { id: string; kind: string; props: Record<string, unknown> }[];
}> {
  const res = await fetch(`${base}/api/timeline?conv_id=${encodeURIComponent(convId)}`);
  if (!res.ok) throw new Error(`timeline: HTTP ${res.status}`);
  return (await res.json()) as never;
}

/** The assistant messages' contents of a snapshot, in order (non-empty only). */
export function assistantTexts(snap: Awaited<ReturnType<typeof timeline>>): string[] {
  return snap.entities
    .filter((e) => e.kind === 'message' && e.props.role === 'assistant' && e.props.content !== '')
    .map((e) => String(e.props.content));
}

/** Every `wN` of `/stream N` exactly once and in order. */
export function checkWords(text: string, n: number): void {
  const words = text.trim().split(/\s+/);
  const expected = Array.from({ length: n }, (_, i) => `w${i + 1}`);
  if (words.join(' ') !== expected.join(' ')) {
    const firstBad = words.findIndex((w, i) => w !== expected[i]);
    throw new Error(`stream text differs at word ${firstBad}: got ${words.slice(Math.max(0, firstBad - 2), firstBad + 3).join(' ')} (${words.length} words)`);
  }
}

/** Polls a Node-side condition (for state outside the page, e.g. routed sockets). */
export async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The text of the last assistant message as rendered. */
export function lastAssistantText(page: Page): Promise<string> {
  return page.evaluate(() => {
    const all = document.querySelectorAll('[data-testid="msg-assistant"] .md');
    return (all[all.length - 1] as HTMLElement | undefined)?.innerText.trim() ?? '';
  });
}

/** Waits until the last assistant message is streaming and shows at least `n` words. */
export async function waitForWords(page: Page, n: number): Promise<void> {
  await page.waitForFunction(
    (min) => {
      const all = document.querySelectorAll('[data-testid="msg-assistant"]');
      const last = all[all.length - 1] as HTMLElement | undefined;
      const text = (last?.querySelector('.md') as HTMLElement | null)?.innerText ?? '';
      return last?.dataset.streaming === 'true' && text.trim().split(/\s+/).length >= min;
    },
    n,
    LONG,
  );
}

/** Waits until nothing runs: no run indicator, no streaming message. */
export async function waitIdle(page: Page): Promise<void> {
  await page.waitForFunction(
    () => !document.querySelector('[data-testid="run-indicator"]') && !document.querySelector('[data-streaming="true"]') && document.querySelectorAll('[data-testid="msg-assistant"]').length > 0,
    null,
    LONG,
  );
}

/** Every `wN` from w1 in order, each once (a prefix of `/stream` output); returns the count. */
export function checkWordPrefix(text: string): number {
  const words = text.trim().split(/\s+/).filter(Boolean);
  words.forEach((w, i) => {
    if (w !== `w${i + 1}`) throw new Error(`word ${i} is ${w}, expected w${i + 1}: …${words.slice(Math.max(0, i - 3), i + 3).join(' ')}…`);
  });
  return words.length;
}

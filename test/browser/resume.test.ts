import type { Browser, BrowserContext, WebSocketRoute } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assistantTexts,
  checkWordPrefix,
  checkWords,
  convIdOf,
  lastAssistantText,
  launchBrowser,
  LONG,
  renderedTranscript,
  screenshot,
  sendPrompt,
  startServer,
  tempDb,
  timeline,
  until,
  waitForWords,
  waitIdle,
  watchPage,
  type ServerProcess,
} from './harness';

/** Nothing lost, nothing doubled: reload mid-stream, a dropped socket, a server restart, Stop. */

let server: ServerProcess;
let browser: Browser;
let context: BrowserContext;
const tmp = tempDb();

beforeAll(async () => {
  [server, browser] = await Promise.all([startServer({ db: tmp.db }), launchBrowser()]);
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  tmp.remove();
});

/** A fresh tab on the conversation renders what the server's snapshot says. */
async function hydratedTranscript(base: string, convId: string): Promise<string[]> {
  const page = await context.newPage();
  await page.goto(`${base}/c/${convId}`);
  await page.getByTestId('transcript').waitFor(LONG);
  await page.waitForFunction(() => document.querySelector('[data-testid="connection-status"]')?.getAttribute('data-status') === 'connected', null, LONG);
  const t = await renderedTranscript(page);
  await page.close();
  return t;
}

describe('resume', () => {
  it('reload mid-stream: the same text, streaming on, every word exactly once', async () => {
    const page = await context.newPage();
    const { errors } = watchPage(page);
    await page.goto(`${server.url}/`);
    await sendPrompt(page, '/stream 300 10');
    const convId = await convIdOf(page);
    await waitForWords(page, 40);
    const before = await lastAssistantText(page);
    await screenshot(page, '09-streaming');
    await page.reload();
    // hydrated from the snapshot: at least what was shown, and still streaming
    await page.locator('[data-testid="msg-assistant"][data-streaming="true"]').waitFor(LONG);
    const hydrated = await lastAssistantText(page);
    expect(hydrated.startsWith(before)).toBe(true);
    checkWordPrefix(hydrated);
    await waitForWords(page, checkWordPrefix(hydrated) + 10); // it keeps streaming after the reload
    await waitIdle(page);
    const text = await lastAssistantText(page);
    checkWords(text, 300);
    expect(assistantTexts(await timeline(server.url, convId))).toEqual([text]);
    expect(await page.locator('[data-testid="msg-user"]').count()).toBe(1);
    expect(await renderedTranscript(page)).toEqual(await hydratedTranscript(server.url, convId));
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('a dropped socket reconnects with since+epoch and resumes: nothing lost or doubled', async () => {
    const page = await context.newPage();
    const { errors } = watchPage(page);
    const sockets: WebSocketRoute[] = [];
    const urls: URL[] = [];
    await page.routeWebSocket(/\/ws\?/, (ws) => {
      urls.push(new URL(ws.url()));
      ws.connectToServer();
      sockets.push(ws);
    });
    await page.goto(`${server.url}/`);
    await sendPrompt(page, '/stream 300 10');
    const convId = await convIdOf(page);
    await waitForWords(page, 50);
    expect(urls).toHaveLength(1);
    await sockets[0]!.close({ code: 1012, reason: 'test: drop' });
    await until(() => urls.length >= 2, 'the reconnect');
    const resumed = urls[1]!;
    expect(resumed.searchParams.get('conv_id')).toBe(convId);
    expect(Number(resumed.searchParams.get('since'))).toBeGreaterThan(0);
    expect(resumed.searchParams.get('epoch')).toBeTruthy();
    await waitIdle(page);
    const text = await lastAssistantText(page);
    checkWords(text, 300);
    expect(assistantTexts(await timeline(server.url, convId))).toEqual([text]);
    expect(await page.getByTestId('connection-status').getAttribute('data-status')).toBe('connected');
    expect(await renderedTranscript(page)).toEqual(await hydratedTranscript(server.url, convId));
    expect(errors.filter((e) => !e.includes('WebSocket'))).toEqual([]);
    await page.close();
  }, 60_000);

  it('the server dies mid-stream and restarts on the same port and database: the UI reconnects and matches the server', async () => {
    const page = await context.newPage();
    await page.goto(`${server.url}/`);
    await sendPrompt(page, '/stream 300 20');
    const convId = await convIdOf(page);
    await waitForWords(page, 40);
    await server.stop('SIGKILL');
    await page.waitForFunction(() => ['reconnecting', 'offline'].includes(document.querySelector('[data-testid="connection-status"]')?.getAttribute('data-status') ?? ''), null, LONG);
    await screenshot(page, '10-reconnecting');
    server = await startServer({ db: tmp.db, port: server.port });
    await page.waitForFunction(() => document.querySelector('[data-testid="connection-status"]')?.getAttribute('data-status') === 'connected', null, LONG);
    // the interrupted run is closed by the restarted server; the UI shows exactly what it logged
    await page.locator('[data-testid="run-end"]').waitFor(LONG);
    await waitIdle(page);
    const text = await lastAssistantText(page);
    expect(checkWordPrefix(text)).toBeGreaterThanOrEqual(40);
    expect(assistantTexts(await timeline(server.url, convId))).toEqual([text]);
    expect(await renderedTranscript(page)).toEqual(await hydratedTranscript(server.url, convId));
    // and the conversation goes on
    await sendPrompt(page, 'What is (4*5)-1?');
    await page.waitForFunction(() => document.querySelector('[data-testid="transcript"]')?.textContent?.includes('The answer is 19.'), null, LONG);
    await screenshot(page, '11-after-restart');
    await page.close();
  }, 90_000);

  it('Stop ends the run at once, the UI shows it stopped, and the next prompt starts immediately', async () => {
    const page = await context.newPage();
    const { errors } = watchPage(page);
    await page.goto(`${server.url}/`);
    await sendPrompt(page, '/stream 300 20');
    const convId = await convIdOf(page);
    await waitForWords(page, 10);
    await page.getByTestId('stop-button').click();
    const stopped = page.locator('[data-testid="run-end"][data-reason="user_cancel"]');
    await stopped.waitFor(LONG);
    expect((await stopped.textContent())?.trim()).toContain('Stopped');
    await waitIdle(page);
    expect(await page.getByTestId('stop-button').count()).toBe(0);
    const partial = await lastAssistantText(page);
    const n = checkWordPrefix(partial);
    expect(n).toBeGreaterThanOrEqual(10);
    expect(n).toBeLessThan(300);
    await screenshot(page, '12-stopped');

    const response = page.waitForResponse((r) => r.url().endsWith('/chat') && r.request().method() === 'POST', LONG);
    await sendPrompt(page, 'What is (4*5)-1?');
    expect(((await (await response).json()) as { status: string }).status).toBe('started');
    await page.waitForFunction(() => document.querySelector('[data-testid="transcript"]')?.textContent?.includes('The answer is 19.'), null, LONG);
    await waitIdle(page);
    const snap = await timeline(server.url, convId);
    expect(assistantTexts(snap)).toEqual([partial, 'Let me calculate that.', 'The answer is 19.']);
    expect(await renderedTranscript(page)).toEqual(await hydratedTranscript(server.url, convId));
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});

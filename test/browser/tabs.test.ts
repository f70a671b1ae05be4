import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assistantTexts,
  checkWords,
  convIdOf,
  launchBrowser,
  LONG,
  renderedTranscript,
  screenshot,
  sendPrompt,
  startServer,
  tempDb,
  timeline,
  waitForWords,
  waitIdle,
  watchPage,
  type ServerProcess,
} from './harness';

/** Two tabs on one conversation render the same log; the queue is visible in both. */

let server: ServerProcess;
let browser: Browser;
let context: BrowserContext;
const tmp = tempDb();

beforeAll(async () => {
  [server, browser] = await Promise.all([startServer({ db: tmp.db }), launchBrowser()]);
  context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  tmp.remove();
});

const queueTexts = (page: Page) => page.$$eval('[data-testid="queue-item"] .queue-prompt', (els) => els.map((e) => e.textContent ?? ''));

describe('two tabs', () => {
  it('show the same conversation; queued prompts appear in both and move into the timeline', async () => {
    const a = await context.newPage();
    const b = await context.newPage();
    const errs = [watchPage(a).errors, watchPage(b).errors];
    await a.goto(`${server.url}/`);
    await sendPrompt(a, '/stream 300 15');
    const convId = await convIdOf(a);
    await waitForWords(a, 5);
    // the second tab joins mid-stream (hydrates, then follows live)
    await b.goto(`${server.url}/c/${convId}`);
    await waitForWords(b, 20);

    await sendPrompt(a, 'What is (4*5)-1?');
    await sendPrompt(a, '/stream 5');
    for (const p of [a, b]) {
      await p.waitForFunction(() => document.querySelectorAll('[data-testid="queue-item"]').length === 2, null, LONG);
      expect(await queueTexts(p)).toEqual(['What is (4*5)-1?', '/stream 5']);
      // queued prompts are not in the timeline yet
      expect(await p.locator('[data-testid="msg-user"]').count()).toBe(1);
    }
    await screenshot(a, '13-queue-tab-a');
    await screenshot(b, '14-queue-tab-b');

    for (const p of [a, b]) {
      await p.waitForFunction(() => document.querySelectorAll('[data-testid="msg-user"]').length === 3, null, LONG);
      await p.waitForFunction(() => document.querySelectorAll('[data-testid="queue-item"]').length === 0, null, LONG);
      await p.waitForFunction(() => document.querySelector('[data-testid="transcript"]')?.textContent?.includes('w1 w2 w3 w4 w5'), null, LONG);
      await waitIdle(p);
    }
    const ta = await renderedTranscript(a);
    const tb = await renderedTranscript(b);
    expect(tb).toEqual(ta);
    expect(ta.filter((r) => r.startsWith('msg-user'))).toEqual(['msg-user: /stream 300 15', 'msg-user: What is (4*5)-1?', 'msg-user: /stream 5']);
    const snap = await timeline(server.url, convId);
    const texts = assistantTexts(snap);
    checkWords(texts[0]!, 300);
    expect(texts.slice(1)).toEqual(['Let me calculate that.', 'The answer is 19.', 'w1 w2 w3 w4 w5']);
    expect(ta.filter((r) => r.startsWith('msg-assistant'))).toEqual(texts.map((t) => `msg-assistant: ${t}`));
    expect(snap.conversation.queue).toEqual([]);
    await screenshot(b, '15-tab-b-final');
    expect(errs.flat()).toEqual([]);
  }, 60_000);

  it('a prompt sent in one tab appears in the other; a Stop in one is seen by both', async () => {
    const a = await context.newPage();
    await a.goto(`${server.url}/`);
    await sendPrompt(a, 'hello from tab A');
    const convId = await convIdOf(a);
    await waitIdle(a);
    const b = await context.newPage();
    await b.goto(`${server.url}/c/${convId}`);
    await b.locator('[data-testid="msg-user"]', { hasText: 'hello from tab A' }).waitFor(LONG);
    await sendPrompt(b, '/stream 300 20');
    await waitForWords(a, 10);
    await a.getByTestId('stop-button').click();
    for (const p of [a, b]) {
      await p.locator('[data-testid="run-end"][data-reason="user_cancel"]').waitFor(LONG);
      await waitIdle(p);
    }
    expect(await renderedTranscript(b)).toEqual(await renderedTranscript(a));
  }, 60_000);
});

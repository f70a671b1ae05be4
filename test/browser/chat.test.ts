import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convIdOf, launchBrowser, LONG, renderedTranscript, screenshot, sendPrompt, startServer, tempDb, timeline, watchPage, type ServerProcess } from './harness';

/** The chat itself: a prompt with a tool call, Markdown safety, thinking, errors, delete, phone width. */

let server: ServerProcess;
let browser: Browser;
let context: BrowserContext;
const tmp = tempDb();

beforeAll(async () => {
  [server, browser] = await Promise.all([startServer({ db: tmp.db }), launchBrowser()]);
  context = await browser.newContext({ viewport: { width: 1280, height: 800 }, permissions: ['clipboard-read', 'clipboard-write'] });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  tmp.remove();
});

async function newChat(): Promise<{ page: Page; errors: string[] }> {
  const page = await context.newPage();
  const { errors } = watchPage(page);
  await page.goto(`${server.url}/`);
  await page.getByTestId('welcome').waitFor(LONG);
  return { page, errors };
}

const lastAssistantText = (page: Page) =>
  page.evaluate(() => {
    const all = document.querySelectorAll('[data-testid="msg-assistant"] .md');
    return (all[all.length - 1] as HTMLElement | undefined)?.innerText ?? '';
  });

describe('chat', () => {
  it('sends a prompt: the user message, the tool card completing, the streamed answer; a reload shows the same', async () => {
    const { page, errors } = await newChat();
    // the page runs under the strict CSP (no inline script or style): a violation would be a
    // console error, and `errors` must stay empty
    const csp = (await page.request.get(`${server.url}/`)).headers()['content-security-policy'] ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    await screenshot(page, '01-welcome');
    await sendPrompt(page, 'What is (4*5)-1?');
    const convId = await convIdOf(page);
    await page.locator('[data-testid="msg-user"]', { hasText: 'What is (4*5)-1?' }).waitFor(LONG);
    await page.locator('[data-testid="tool-card"][data-status="completed"]').waitFor(LONG);
    await page.waitForFunction(() => document.querySelector('[data-testid="transcript"]')?.textContent?.includes('The answer is 19.'), null, LONG);
    await page.waitForFunction(() => !document.querySelector('[data-testid="run-indicator"]'), null, LONG);

    const card = page.locator('[data-testid="tool-card"]');
    expect(await card.getByTestId('tool-name').textContent()).toBe('calc');
    expect(await card.getByTestId('tool-status').textContent()).toBe('Completed');
    expect(await card.getByTestId('tool-duration').count()).toBe(1);
    await card.locator('summary').click();
    expect(await card.getByTestId('tool-input').textContent()).toContain('(4*5)-1');
    expect(JSON.parse((await card.getByTestId('tool-result').textContent())!)).toMatchObject({ result: 19 });
    expect(await page.getByTestId('connection-status').getAttribute('data-status')).toBe('connected');
    // the sidebar lists it, titled by the first prompt
    await page.locator(`[data-testid="conversation-item"][data-conv-id="${convId}"]`, { hasText: 'What is (4*5)-1?' }).waitFor(LONG);
    await screenshot(page, '02-answer-with-tool-card');
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.waitForTimeout(400); // the buttons' colour transition, for the screenshot only
    await screenshot(page, '02b-answer-dark');
    await page.emulateMedia({ colorScheme: 'light' });

    const before = await renderedTranscript(page);
    await page.reload();
    await page.locator('[data-testid="tool-card"][data-status="completed"]').waitFor(LONG);
    expect(await renderedTranscript(page)).toEqual(before);
    expect(before).toEqual([
      'msg-user: What is (4*5)-1?',
      'msg-assistant: Let me calculate that.',
      'tool-card: calc completed {\n  "expression": "(4*5)-1"\n} => {\n  "expression": "(4*5)-1",\n  "result": 19\n}',
      'msg-assistant: The answer is 19.',
    ]);
    const snap = await timeline(server.url, convId);
    expect(snap.conversation.running).toBeNull();
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('shows model output with HTML or script as text; nothing executes, links are safe', async () => {
    const { page, errors } = await newChat();
    const evil = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';
    await sendPrompt(page, evil);
    await page.waitForFunction((t) => document.querySelector('[data-testid="msg-assistant"] .md')?.textContent?.includes(t), evil, LONG);
    await page.locator('[data-testid="msg-assistant"][data-streaming="false"]').waitFor(LONG);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.locator('[data-testid="transcript"] img, [data-testid="transcript"] script').count()).toBe(0);
    expect(await page.locator('[data-testid="msg-user"]').textContent()).toBe(evil);
    expect(await lastAssistantText(page)).toContain(`You said: "${evil}"`);
    await screenshot(page, '03-html-shown-as-text');

    await sendPrompt(page, 'links: [bad](javascript:window.__pwned=3) and [good](https://example.com/x)');
    await page.locator('[data-testid="msg-assistant"] a[href="https://example.com/x"]').waitFor(LONG);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="msg-assistant"][data-streaming="false"]').length === 2, null, LONG);
    const good = page.locator('[data-testid="msg-assistant"] a[href="https://example.com/x"]');
    expect(await good.getAttribute('rel')).toBe('noopener noreferrer');
    expect(await good.getAttribute('target')).toBe('_blank');
    expect(await page.locator('a[href^="javascript"]').count()).toBe(0);
    expect(await page.locator('.md-inert-link', { hasText: 'bad' }).count()).toBe(1);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('renders code blocks with a working Copy button; Shift+Enter is a newline, Enter sends', async () => {
    const { page } = await newChat();
    const box = page.getByTestId('prompt-input');
    await box.fill('Code:');
    await box.press('Shift+Enter');
    await box.pressSequentially('```js');
    await box.press('Shift+Enter');
    await box.pressSequentially('console.log(1 < 2)');
    await box.press('Shift+Enter');
    await box.pressSequentially('```');
    await box.press('Shift+Enter');
    expect(await box.inputValue()).toBe('Code:\n```js\nconsole.log(1 < 2)\n```\n');
    expect(await page.locator('[data-testid="msg-user"]').count()).toBe(0);
    await box.pressSequentially('end');
    await box.press('Enter');
    const block = page.locator('[data-testid="msg-assistant"][data-streaming="false"] [data-testid="code-block"]');
    await block.waitFor(LONG);
    expect(await block.locator('code').textContent()).toBe('console.log(1 < 2)');
    expect(await box.inputValue()).toBe('');
    await block.getByTestId('copy-button').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="code-block"] [data-testid="copy-button"]')?.textContent === 'Copied', null, LONG);
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe('console.log(1 < 2)');
    await screenshot(page, '04-code-block');
    await page.close();
  }, 60_000);

  it('collapses thinking and shows a run error with its message', async () => {
    const { page } = await newChat();
    await sendPrompt(page, '/think');
    const thinking = page.locator('[data-testid="thinking"][data-streaming="false"]');
    await thinking.waitFor(LONG);
    expect(await thinking.evaluate((d) => (d as HTMLDetailsElement).open)).toBe(false);
    await page.waitForFunction(() => !document.querySelector('[data-testid="run-indicator"]'), null, LONG);
    await sendPrompt(page, '/error provider_rate_limited');
    const err = page.locator('[data-testid="run-end"][data-status="error"]');
    await err.waitFor(LONG);
    expect(await err.getByTestId('run-error').textContent()).toContain('provider_rate_limited');
    expect((await err.getByTestId('run-error').textContent())!.length).toBeGreaterThan('provider_rate_limited'.length + 3);
    await thinking.locator('summary').click();
    await screenshot(page, '05-thinking-and-error');
    expect(await page.getByTestId('stop-button').count()).toBe(0);
    await page.close();
  }, 60_000);

  it('deletes a conversation after confirming, from the sidebar', async () => {
    const { page } = await newChat();
    await sendPrompt(page, 'to be deleted');
    const convId = await convIdOf(page);
    await page.locator('[data-testid="msg-assistant"][data-streaming="false"]').waitFor(LONG);
    const item = page.locator(`[data-testid="conversation-item"][data-conv-id="${convId}"]`);
    await item.waitFor(LONG);
    const other = await context.newPage(); // another tab on the same conversation
    await other.goto(`${server.url}/c/${convId}`);
    await other.locator('[data-testid="msg-user"]', { hasText: 'to be deleted' }).waitFor(LONG);
    await item.getByTestId('delete-conversation').click();
    await page.getByTestId('confirm-dialog').waitFor(LONG);
    await screenshot(page, '06-delete-confirm');
    await page.getByTestId('confirm-cancel').click();
    expect(await item.count()).toBe(1);
    await item.getByTestId('delete-conversation').click();
    await page.getByTestId('confirm-ok').click();
    await item.waitFor({ state: 'detached', ...LONG });
    await page.waitForURL(`${server.url}/`, LONG);
    const res = await fetch(`${server.url}/api/conversations/${convId}`);
    expect(res.status).toBe(410);
    // the other tab learns it (socket closed 4404) and stops offering to send
    await other.getByTestId('gone-banner').waitFor(LONG);
    expect(await other.getByTestId('prompt-input').isDisabled()).toBe(true);
    expect(await other.getByTestId('connection-status').getAttribute('data-status')).toBe('deleted');
    await other.close();
    await page.close();
  }, 60_000);

  it('is usable with the keyboard alone: focus is visible, Escape stops a run, dialogs trap focus', async () => {
    const { page } = await newChat();
    await page.getByTestId('prompt-input').focus();
    await page.keyboard.type('/stream 300 20');
    await page.keyboard.press('Enter');
    await page.locator('[data-testid="msg-assistant"][data-streaming="true"]').waitFor(LONG);
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('prompt-input');
    await page.keyboard.press('Escape');
    await page.locator('[data-testid="run-end"][data-reason="user_cancel"]').waitFor(LONG);
    // Tab (wrapping around the page) reaches the sidebar's controls in order, with a visible focus ring
    const seen: string[] = [];
    for (let i = 0; i < 20 && !seen.includes('delete-conversation'); i++) {
      await page.keyboard.press('Tab');
      seen.push((await page.evaluate(() => document.activeElement?.getAttribute('data-testid') ?? document.activeElement?.className ?? '')) as string);
    }
    expect(seen).toContain('new-chat');
    expect(seen.indexOf('new-chat')).toBeLessThan(seen.indexOf('delete-conversation'));
    const ring = await page.evaluate(() => getComputedStyle(document.activeElement!).boxShadow);
    expect(ring).not.toBe('none');
    await screenshot(page, '06b-keyboard-focus');
    await page.keyboard.press('Enter');
    await page.getByTestId('confirm-dialog').waitFor(LONG);
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('confirm-cancel');
    await page.keyboard.press('Escape');
    await page.getByTestId('confirm-dialog').waitFor({ state: 'hidden', ...LONG });
    expect(await page.locator('[data-testid="conversation-item"]').count()).toBeGreaterThan(0);
    await page.close();
  }, 60_000);

  it('works at phone width: the sidebar is a drawer, controls are labelled', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    const page = await phone.newPage();
    await page.goto(`${server.url}/`);
    await sendPrompt(page, 'What is (4*5)-1?');
    await page.waitForFunction(() => document.querySelector('[data-testid="transcript"]')?.textContent?.includes('The answer is 19.'), null, LONG);
    const sidebar = page.getByTestId('sidebar');
    const offscreen = () => sidebar.evaluate((el) => el.getBoundingClientRect().right <= 0);
    expect(await offscreen()).toBe(true);
    await screenshot(page, '07-phone-chat');
    await page.getByRole('button', { name: 'Open conversations' }).click();
    await page.waitForFunction(() => document.querySelector('[data-testid="sidebar"]')!.getBoundingClientRect().left >= 0, null, LONG);
    await page.waitForTimeout(300); // the drawer's slide-in, for the screenshot only
    await screenshot(page, '08-phone-sidebar');
    await page.getByRole('button', { name: 'Close sidebar' }).click();
    await page.waitForFunction(() => document.querySelector('[data-testid="sidebar"]')!.getBoundingClientRect().right <= 0, null, LONG);
    // every control has an accessible name
    const unnamed = await page.evaluate(() =>
      Array.from(document.querySelectorAll('button, select, textarea, a[href]'))
        .filter((el) => !(el.getAttribute('aria-label') || (el as HTMLElement).innerText.trim() || el.getAttribute('title')))
        .map((el) => el.outerHTML.slice(0, 80)),
    );
    expect(unnamed).toEqual([]);
    await phone.close();
  }, 60_000);

  it('works under a route prefix (--root): assets, API, socket and /c/<id> reloads', async () => {
    const own = tempDb();
    const s = await startServer({ db: own.db, args: ['--root', '/chat-ui'] });
    const page = await context.newPage();
    const failed: string[] = [];
    page.on('response', (r) => {
      if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
    });
    try {
      await page.goto(`${s.url}/chat-ui/`);
      await sendPrompt(page, 'What is (4*5)-1?');
      await page.waitForURL(/\/chat-ui\/c\/[A-Za-z0-9_-]+$/, LONG);
      await page.waitForFunction(() => document.querySelector('[data-testid="transcript"]')?.textContent?.includes('The answer is 19.'), null, LONG);
      await page.reload();
      await page.waitForFunction(() => document.querySelector('[data-testid="transcript"]')?.textContent?.includes('The answer is 19.'), null, LONG);
      await page.waitForFunction(() => document.querySelector('[data-testid="connection-status"]')?.getAttribute('data-status') === 'connected', null, LONG);
      expect(failed).toEqual([]);
    } finally {
      await page.close();
      await s.stop();
      own.remove();
    }
  }, 60_000);

  it('step mode: the run pauses at tool calls, tools wait, Continue resumes it', async () => {
    const { page } = await newChat();
    await sendPrompt(page, 'hello');
    const convId = await convIdOf(page);
    await page.locator('[data-testid="msg-assistant"][data-streaming="false"]').waitFor(LONG);
    const toggle = page.getByTestId('step-mode-toggle');
    await toggle.click();
    await page.waitForFunction(() => document.querySelector('[data-testid="step-mode-toggle"]')?.getAttribute('aria-checked') === 'true', null, LONG);
    await sendPrompt(page, '/tools 2');
    const open = page.locator('[data-testid="pause-card"][data-open="true"]');
    await open.waitFor(LONG);
    expect(await open.getAttribute('data-phase')).toBe('after_inference');
    expect(await page.locator('[data-testid="tool-card"][data-status="completed"]').count()).toBe(0);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="tool-card"][data-waiting="true"]').length === 2, null, LONG);
    await screenshot(page, '16-step-pause');
    // keep continuing until the run ends (a pause after the model's turn, then after the tools)
    let continued = 0;
    while (continued < 6) {
      const state = await page.waitForFunction(
        () => (document.querySelector('[data-testid="pause-card"][data-open="true"]') ? 'paused' : !document.querySelector('[data-testid="run-indicator"]') ? 'done' : null),
        null,
        LONG,
      );
      if ((await state.jsonValue()) === 'done') break;
      await page.locator('[data-testid="pause-card"][data-open="true"] [data-testid="pause-continue"]').first().click();
      await page.waitForFunction((n) => document.querySelectorAll('[data-testid="pause-card"][data-open="false"]').length >= n, continued + 1, LONG);
      continued++;
    }
    expect(continued).toBeGreaterThanOrEqual(1);
    expect(await page.locator('[data-testid="tool-card"][data-status="completed"]').count()).toBe(2);
    await toggle.click();
    await page.waitForFunction(() => document.querySelector('[data-testid="step-mode-toggle"]')?.getAttribute('aria-checked') === 'false', null, LONG);
    const snap = await timeline(server.url, convId);
    expect(snap.entities.filter((e) => e.kind === 'pause').every((e) => e.props.resolution === 'continued')).toBe(true);
    await page.close();
  }, 60_000);
});

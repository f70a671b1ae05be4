import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convIdOf, launchBrowser, LONG, screenshot, sendPrompt, startServer, tempDb, timeline, waitIdle, watchPage, type ServerProcess } from './harness';

/**
 * Step mode and tool approval in the UI (issue 6): the pause card (phase, summary, held calls,
 * countdown, the actions of its phase), reload during a pause, two tabs, an approval profile.
 * Every wait is for a final state; no timing is asserted (deadlines are far away).
 */

let server: ServerProcess;
let browser: Browser;
let context: BrowserContext;
const tmp = tempDb();
const profilesDir = mkdtempSync(join(tmpdir(), 'mw-profiles-'));

const PROFILES = `
default: demo
profiles:
  - slug: demo
    provider: demo
    chunk_delay_ms: 0
    step_timeout_ms: 300000
  - slug: approve
    display_name: Demo with approval
    provider: demo
    chunk_delay_ms: 0
    approval_timeout_ms: 300000
    tools: [{name: calc, approval: required}, get_time]
`;

beforeAll(async () => {
  const profiles = join(profilesDir, 'profiles.yaml');
  writeFileSync(profiles, PROFILES);
  [server, browser] = await Promise.all([startServer({ db: tmp.db, args: ['--profiles', profiles] }), launchBrowser()]);
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  tmp.remove();
  rmSync(profilesDir, { recursive: true, force: true });
});

const OPEN = '[data-testid="pause-card"][data-open="true"]';

async function newChat(ctx: BrowserContext = context): Promise<{ page: Page; errors: string[] }> {
  const page = await ctx.newPage();
  const { errors } = watchPage(page);
  await page.goto(`${server.url}/`);
  await page.getByTestId('welcome').waitFor(LONG);
  return { page, errors };
}

/** Switches step mode on from the page (on a new chat the page keeps it for the first prompt). */
async function stepModeOn(page: Page): Promise<void> {
  await page.getByTestId('step-mode-toggle').click();
  await page.locator('[data-testid="step-mode-toggle"][aria-checked="true"]').waitFor(LONG);
}

/** The open pause card as the page shows it. */
async function openCard(page: Page, phase: string) {
  const open = page.locator(`${OPEN}[data-phase="${phase}"]`);
  await open.waitFor(LONG);
  // the card itself (by pause id), which stays the same element once it resolves
  const card = page.locator(`[data-testid="pause-card"][data-pause-id="${await open.getAttribute('data-pause-id')}"]`);
  return {
    card,
    calls: await card.locator('[data-testid="pause-call"]').evaluateAll((els) =>
      els.map((e) => `${e.querySelector('[data-testid="pause-call-name"]')?.textContent} ${e.querySelector('[data-testid="pause-call-args"]')?.textContent}`),
    ),
    buttons: await card.locator('.pause-actions button').evaluateAll((els) => els.map((e) => e.textContent)),
    countdown: (await card.getByTestId('pause-countdown').textContent()) ?? '',
  };
}

/** Phone width, once the sidebar (a drawer there) is off screen. */
async function phoneWidth(page: Page): Promise<void> {
  await page.setViewportSize({ width: 390, height: 760 });
  await page.waitForFunction(() => document.querySelector('[data-testid="sidebar"]')!.getBoundingClientRect().right <= 0, null, LONG);
}

const resolutions = (page: Page) => page.locator('[data-testid="pause-card"]').evaluateAll((els) => els.map((e) => `${(e as HTMLElement).dataset.phase}:${(e as HTMLElement).dataset.resolution}`));

const waitText = (page: Page, text: string) =>
  page.waitForFunction((t) => document.querySelector('[data-testid="transcript"]')?.textContent?.includes(t), text, LONG);

describe('step mode in the UI', () => {
  it('pauses before the tool (held call, countdown), Approve runs it, pauses after it, Continue answers', async () => {
    const { page, errors } = await newChat();
    await stepModeOn(page);
    await sendPrompt(page, 'What is 2+3?');
    const convId = await convIdOf(page);
    const first = await openCard(page, 'after_inference');
    expect(first.calls).toEqual(['calc {"expression":"2+3"}']);
    expect(first.buttons).toEqual(['Continue', 'Approve', 'Deny', 'Abort']);
    expect(first.countdown).toMatch(/^\d+:\d\d left · then the call runs$|^\d+ s left · then the call runs$/);
    expect(await first.card.textContent()).toContain('Review next action');
    // the tool waits: nothing ran yet
    await page.locator('[data-testid="tool-card"][data-waiting="true"]').waitFor(LONG);
    expect(await page.locator('[data-testid="tool-card"][data-status="completed"]').count()).toBe(0);
    await screenshot(page, '20-pause-card');
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.waitForTimeout(400); // the buttons' colour transition, for the screenshot only
    await screenshot(page, '20b-pause-card-dark');
    await page.emulateMedia({ colorScheme: 'light' });
    await phoneWidth(page);
    await screenshot(page, '21-pause-card-phone');
    await page.setViewportSize({ width: 1280, height: 800 });

    await first.card.getByTestId('pause-approve').click();
    await page.locator('[data-testid="tool-card"][data-status="completed"]').waitFor(LONG);
    const second = await openCard(page, 'after_tools');
    expect(second.calls).toEqual([]);
    expect(second.buttons).toEqual(['Continue', 'Abort']);
    expect(second.countdown).toMatch(/then the run continues$/);
    await second.card.getByTestId('pause-continue').click();
    await waitText(page, 'The answer is 5.');
    await waitIdle(page);
    expect(await resolutions(page)).toEqual(['after_inference:approved', 'after_tools:continued']);
    expect(await page.locator(OPEN).count()).toBe(0);
    await screenshot(page, '24-pauses-resolved');
    const snap = await timeline(server.url, convId);
    expect(snap.entities.filter((e) => e.kind === 'pause').map((e) => e.props.resolution)).toEqual(['approved', 'continued']);
    expect(errors).toEqual([]);
    await page.close();
  }, 30_000);

  it('a reload during a pause shows the same card with its held call, and its buttons still work', async () => {
    const { page, errors } = await newChat();
    await stepModeOn(page);
    await sendPrompt(page, 'What is 2+3?');
    const before = await openCard(page, 'after_inference');
    await page.reload();
    const after = await openCard(page, 'after_inference');
    expect(after.calls).toEqual(before.calls);
    expect(after.calls).toEqual(['calc {"expression":"2+3"}']);
    expect(after.buttons).toEqual(before.buttons);
    expect(after.countdown).toMatch(/left · then the call runs$/);
    await page.locator('[data-testid="tool-card"][data-waiting="true"]').waitFor(LONG);
    await after.card.getByTestId('pause-continue').click();
    await openCard(page, 'after_tools');
    await page.reload();
    await (await openCard(page, 'after_tools')).card.getByTestId('pause-continue').click();
    await waitText(page, 'The answer is 5.');
    await waitIdle(page);
    expect(await resolutions(page)).toEqual(['after_inference:continued', 'after_tools:continued']);
    expect(errors).toEqual([]);
    await page.close();
  }, 30_000);

  it('two tabs: a pause resolved in tab A shows resolved in tab B; B acting late (409) is no error', async () => {
    const { page: a, errors: errA } = await newChat();
    await stepModeOn(a);
    // the new chat's first prompt creates the conversation, already stepped
    await sendPrompt(a, 'What is 2+3?');
    const cardA = (await openCard(a, 'after_inference')).card;
    const convId = await convIdOf(a);
    const b = await context.newPage();
    const errB = watchPage(b).errors;
    // tab B's socket frames pass through here, so B can be made to miss a resolution for a while
    let hold = false;
    const held: (string | Buffer)[] = [];
    let release = () => {};
    await b.routeWebSocket(/\/ws\?/, (ws) => {
      const srv = ws.connectToServer();
      srv.onMessage((m) => (hold ? held.push(m) : ws.send(m)));
      release = () => {
        hold = false;
        for (const m of held.splice(0)) ws.send(m);
      };
    });
    await b.goto(`${server.url}/c/${convId}`);
    await b.locator('[data-testid="step-mode-toggle"][aria-checked="true"]').waitFor(LONG);
    const inB = await openCard(b, 'after_inference');
    const cardB = inB.card;
    expect(inB.calls).toEqual(['calc {"expression":"2+3"}']);
    await cardA.getByTestId('pause-approve').click();
    await b.locator('[data-testid="pause-card"][data-phase="after_inference"][data-resolution="approved"]').waitFor(LONG);
    expect(await cardB.getAttribute('data-open')).toBe('false');
    expect(await cardB.getByTestId('pause-resolution').textContent()).toBe('Approved');

    // B misses A's Continue for a moment and clicks too: the server answers 409 pause_resolved,
    // which is not an error; the card resolves when the frame arrives
    const afterTools = (await openCard(b, 'after_tools')).card;
    await openCard(a, 'after_tools');
    hold = true;
    await a.locator(OPEN).getByTestId('pause-continue').click();
    await a.locator('[data-testid="pause-card"][data-phase="after_tools"][data-resolution="continued"]').waitFor(LONG);
    const answer = b.waitForResponse((r) => r.url().includes('/pauses/') && r.request().method() === 'POST', LONG);
    await afterTools.getByTestId('pause-continue').click();
    const res = await answer;
    expect(res.status()).toBe(409);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('pause_resolved');
    expect(await afterTools.getAttribute('data-open')).toBe('true');
    expect(await afterTools.getByTestId('pause-error').count()).toBe(0);
    expect(await afterTools.getByTestId('pause-continue').isDisabled()).toBe(true);
    release();
    await b.locator('[data-testid="pause-card"][data-phase="after_tools"][data-resolution="continued"]').waitFor(LONG);
    for (const p of [a, b]) {
      await waitText(p, 'The answer is 5.');
      await waitIdle(p);
      expect(await resolutions(p)).toEqual(['after_inference:approved', 'after_tools:continued']);
    }
    expect(errA).toEqual([]);
    // the browser logs the 409 response itself; nothing else
    expect(errB.filter((e) => !/status of 409/.test(e))).toEqual([]);
    await a.close();
    await b.close();
  }, 30_000);

  it('approval profile without step mode: one card for the batch; Deny denies all three; partial approval', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const { page, errors } = await newChat(ctx);
    await page.getByTestId('profile-select').selectOption('approve');
    await sendPrompt(page, '/tools 3');
    const convId = await convIdOf(page);
    const card = await openCard(page, 'approval');
    expect(card.calls).toHaveLength(3);
    expect(card.calls.every((c) => /^calc \{"expression":".+"\}$/.test(c))).toBe(true);
    expect(card.buttons).toEqual(['Approve', 'Deny', 'Abort']);
    expect(card.countdown).toMatch(/left · then the calls are denied$/);
    expect(await page.locator('[data-testid="step-mode-toggle"]').getAttribute('aria-checked')).toBe('false');
    expect(await page.locator('[data-testid="tool-card"][data-waiting="true"]').count()).toBe(3);
    await screenshot(page, '22-approval-card');
    await phoneWidth(page);
    await screenshot(page, '23-approval-card-phone');
    await page.setViewportSize({ width: 1280, height: 800 });

    await card.card.getByTestId('pause-deny').click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="tool-card"][data-status="denied"]').length === 3, null, LONG);
    await waitText(page, 'Computed 3 results');
    await waitIdle(page);
    const answer = await page.locator('[data-testid="msg-assistant"]').last().textContent();
    expect(answer).toMatch(/denied/);
    expect(await resolutions(page)).toEqual(['approval:denied']);
    await screenshot(page, '25-approval-denied');
    expect(await page.locator('[data-testid="tool-card"][data-status="completed"]').count()).toBe(0);

    // per call: uncheck the second of two, Approve 1 of 2 → one runs, one is denied
    await sendPrompt(page, '/tools 2');
    const two = await openCard(page, `approval`);
    expect(two.calls).toHaveLength(2);
    await two.card.getByTestId('pause-call-check').nth(1).uncheck();
    expect(await two.card.getByTestId('pause-approve').textContent()).toBe('Approve 1 of 2');
    await two.card.getByTestId('pause-approve').click();
    await waitText(page, 'Computed 2 results');
    await waitIdle(page);
    const snap = await timeline(server.url, convId);
    const statuses = snap.entities.filter((e) => e.kind === 'tool_call').map((e) => e.props.status);
    expect(statuses).toEqual(['denied', 'denied', 'denied', 'completed', 'denied']);
    expect(await resolutions(page)).toEqual(['approval:denied', 'approval:approved']);
    expect(errors).toEqual([]);
    await ctx.close();
  }, 30_000);
});

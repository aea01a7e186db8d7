import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { parseConfig } from '../src/config/load.ts';
import { startDaemon, type Daemon } from '../src/daemon/daemon.ts';
import { createLogger } from '../src/log.ts';
import { startSimulator, type Simulator } from '../src/simulator/server.ts';
import { CHROMIUM_MISSING, findChromium, launchChromium, watchedPage, type PageWatch, type TestBrowser } from './helpers/browser.ts';
import { startRedis, type PrivateRedis } from './helpers/redis.ts';
import { startSmtpServer, type TestSmtpServer } from './helpers/smtp.ts';
import { skipWithout } from './helpers/tools.ts';
import { waitUntil } from './helpers/wait.ts';

// Quotes to leave an attribute (the progress bar's aria-label), markup, and entities that must stay text.
const HOSTILE = `"'><img src=x onerror=alert(1)><script>alert(2)</script> & &amp; <b>bold</b>`;
const chromiumPath = findChromium();

interface StatusJson {
  alerts: { items: { kind: string; task: { id: number } | null }[] };
  running: { items: { id: number }[] };
}

/** The status page in Debian's Chromium: a real daemon against the simulator, real Redis and SMTP. */
describe('status page in a browser', { skip: skipWithout(chromiumPath !== null, CHROMIUM_MISSING) }, () => {
  let redis: PrivateRedis;
  let simulator: Simulator;
  let smtp: TestSmtpServer;
  let daemon: Daemon;
  let chromium: TestBrowser;
  let browser: Browser;

  before(async () => {
    // First, so that a missing browser (required under BATCHWATCH_CI=1) is what the failure says.
    chromium = await launchChromium(chromiumPath);
    browser = chromium.browser;
    redis = await startRedis();
    simulator = await startSimulator({ scenario: 'empty' });
    smtp = await startSmtpServer();
    const yaml = `superoffice: { url: "${simulator.url}", username: demo, password: demo, timeout: 2s }
redis: { url: "${redis.url}", prefix: page }
schedules: [{ name: sales, associates: [101, 0], every: 1s }]
rules: { stallAfter: 2s }
mail: { smtp: "smtp://127.0.0.1:${smtp.port}", from: bw@example.com, to: [ops@example.com], retryDelay: 200ms }
http: { host: 127.0.0.1, port: 0 }
`;
    daemon = await startDaemon(parseConfig(yaml, {}), createLogger('silent'));
  });
  after(async () => {
    await chromium?.close();
    await daemon?.close();
    await smtp?.stop();
    await simulator?.close();
    await redis?.close();
  });

  const status = async (): Promise<StatusJson> => (await fetch(`${daemon.httpUrl}/api/v1/status`)).json() as Promise<StatusJson>;
  const hasAlert = async (kind: string, id: number) => (await status()).alerts.items.some((a) => a.kind === kind && a.task?.id === id);
  /** The hostile names read as text in the failed (501) and running (506) rows, and made no element. */
  const hostileIsText = async (page: Page) => {
    assert.equal(await page.locator('#alerts tbody tr', { hasText: '#501' }).locator('.task-name').textContent(), HOSTILE);
    const running = page.locator('#running tbody tr', { hasText: '#506' });
    assert.equal(await running.locator('.task-name').textContent(), HOSTILE);
    assert.equal(await running.locator('progress').getAttribute('aria-label'), `progress of ${HOSTILE}`);
    assert.equal(await page.locator('main img, main script, main b').count(), 0, 'the names made no element');
  };
  const clean = (watch: PageWatch) => {
    assert.deepEqual(watch.dialogs, [], 'no dialog opened: no injected script ran');
    assert.deepEqual(watch.errors, [], 'no console or page errors');
  };

  it('a failed and a running task with a hostile name show as text (also inside an attribute); no script runs', async () => {
    simulator.upsertTask({ id: 501, associateId: 0, name: HOSTILE, state: 'Failed', lastStarted: Date.now(), startCount: 1 });
    simulator.upsertTask({
      id: 506,
      associateId: 101,
      name: HOSTILE,
      state: 'Started',
      lastStarted: Date.now(),
      startCount: 1,
      progressPercent: 5,
    });
    await waitUntil(() => hasAlert('failed', 501), 20_000, 'the failed alert of task 501');
    await waitUntil(async () => (await status()).running.items.some((r) => r.id === 506), 20_000, 'the running task 506');
    const { context, page, watch } = await watchedPage(browser, 1440, 900);
    try {
      await page.goto(`${daemon.httpUrl}/`);
      const row = page.locator('#alerts tbody tr', { hasText: '#501' });
      assert.equal(await row.count(), 1);
      assert.equal(await row.locator('.task-name').textContent(), HOSTILE);
      assert.equal(await row.locator('td[data-label="Kind"]').textContent(), 'failed');
      assert.equal(await row.locator('td[data-label="Associate"]').textContent(), 'system');
      await hostileIsText(page);
      assert.match(await page.title(), /^\(\d+\) batchwatch status$/);
      assert.match((await page.locator('footer').textContent()) ?? '', /This page is read-only/);
      clean(watch);
    } finally {
      await context.close();
    }
  });

  it("a stalled task's bar shows its percentage and how long it has not moved", async () => {
    simulator.upsertTask({
      id: 502,
      associateId: 101,
      name: 'ExportSelection',
      state: 'Started',
      lastStarted: Date.now(),
      startCount: 1,
      progressPercent: 37,
      progressDescription: 'rows 3700 of 10000',
    });
    await waitUntil(() => hasAlert('stalled', 502), 20_000, 'the stalled alert of task 502');
    const { context, page, watch } = await watchedPage(browser, 1440, 900);
    try {
      await page.goto(`${daemon.httpUrl}/`);
      const row = page.locator('#running tbody tr', { hasText: '#502' });
      assert.equal(await row.locator('progress').getAttribute('value'), '37');
      assert.equal(await row.locator('progress').evaluate((bar) => (bar as HTMLProgressElement).position), 0.37);
      assert.equal(await row.locator('.percent').textContent(), '37 %');
      assert.match((await row.textContent()) ?? '', /stalled/);
      assert.match((await row.locator('td[data-label="Unchanged for"]').textContent()) ?? '', /^\d+s$/);
      assert.equal(await page.locator('#alerts tbody tr', { hasText: '#502' }).locator('td[data-label="Kind"]').textContent(), 'stalled');
      clean(watch);
    } finally {
      await context.close();
    }
  });

  it('the page follows the simulator without a reload and keeps the scroll position', async () => {
    // Enough rows that a phone has to scroll.
    for (let id = 600; id < 615; id++)
      simulator.upsertTask({
        id,
        associateId: 101,
        name: `Import batch ${id}`,
        state: 'Started',
        lastStarted: Date.now(),
        startCount: 1,
        progressPercent: 10,
      });
    await waitUntil(async () => (await status()).running.items.some((r) => r.id === 614), 20_000, 'the running tasks');
    const { context, page, watch } = await watchedPage(browser, 375, 700);
    try {
      await page.goto(`${daemon.httpUrl}/?refresh=1`);
      await page.evaluate(() => {
        (window as unknown as { notReloaded: boolean }).notReloaded = true;
        window.scrollTo(0, 400);
      });
      assert.equal(await page.evaluate(() => window.scrollY), 400);
      assert.equal(await page.locator('#alerts', { hasText: '#503' }).count(), 0);
      simulator.upsertTask({ id: 503, associateId: 101, name: 'NightlyMailing', state: 'Failed', lastStarted: Date.now(), startCount: 1 });
      await page.locator('#alerts tbody tr', { hasText: '#503' }).waitFor({ timeout: 20_000 });
      assert.equal(
        await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded),
        true,
        'updated in place, not reloaded',
      );
      assert.equal(await page.evaluate(() => window.scrollY), 400, 'scroll position kept');
      // The swapped-in fragment (innerHTML of a template) keeps the hostile names as text too.
      await hostileIsText(page);
      clean(watch);
    } finally {
      await context.close();
    }
  });

  it('a hung refresh is given up and the next one still comes; showing the tab again does not start a second request', async () => {
    const { context, page, watch } = await watchedPage(browser, 1440, 900);
    let requests = 0;
    let held: (() => void) | null = null;
    const firstSeen = new Promise<void>((resolve) => {
      held = resolve;
    });
    // The first fragment request never gets an answer (a hung connection); later ones reach the daemon.
    await page.route('**/status/fragment', async (route) => {
      requests++;
      if (requests === 1) {
        held?.();
        return;
      }
      await route.continue();
    });
    try {
      await page.goto(`${daemon.httpUrl}/?refresh=1`);
      await firstSeen;
      // The tab shown again while the request hangs: before, this started a second, overlapping request.
      await page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
      const state = page.locator('#refresh-state');
      await page.waitForFunction(() => /refresh failed at/.test(document.getElementById('refresh-state')?.textContent ?? ''), null, {
        timeout: 20_000,
      });
      assert.match((await state.textContent()) ?? '', /^\(refresh failed at \d\d:\d\d: no answer within 1 s; showing older data\)$/);
      assert.equal(requests, 1, 'one request at a time');
      simulator.upsertTask({ id: 505, associateId: 101, name: 'AfterTheHang', state: 'Failed', lastStarted: Date.now(), startCount: 1 });
      await page.locator('#alerts tbody tr', { hasText: '#505' }).waitFor({ timeout: 20_000 });
      assert.equal(await state.textContent(), '', 'the failure note is cleared by the next answer');
      assert.ok(requests >= 2);
      clean(watch);
    } finally {
      await context.close();
    }
  });

  it('readable on a phone (375 px) and a wall screen (1440 px): nothing wider than the window', async () => {
    simulator.upsertTask({
      id: 504,
      associateId: 101,
      name: `VeryLongTaskName${'X'.repeat(200)}`,
      state: 'Failed',
      lastStarted: Date.now(),
      startCount: 1,
    });
    await waitUntil(() => hasAlert('failed', 504), 20_000, 'the failed alert of task 504');
    for (const [width, height] of [
      [375, 812],
      [1440, 900],
    ] as const) {
      const { context, page, watch } = await watchedPage(browser, width, height);
      try {
        await page.goto(`${daemon.httpUrl}/`);
        const { scrollWidth, innerWidth, fontSize } = await page.evaluate(() => ({
          scrollWidth: document.documentElement.scrollWidth,
          innerWidth: window.innerWidth,
          fontSize: parseFloat(getComputedStyle(document.body).fontSize),
        }));
        assert.ok(scrollWidth <= innerWidth, `${width} px: page is ${scrollWidth} px wide`);
        assert.ok(fontSize >= 14, `${width} px: body text ${fontSize} px`);
        // The stylesheet applied (CSP allows 'self'): the phone layout hides the table heads, the wall screen shows them.
        const headsShown = await page.locator('#alerts thead').isVisible();
        assert.equal(headsShown, width > 720, `${width} px: table heads ${headsShown ? 'shown' : 'hidden'}`);
        clean(watch);
      } finally {
        await context.close();
      }
    }
  });
});

// The system's Chromium (Debian's `chromium`, found on PATH) driven by playwright-core; no browser is ever downloaded.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { missingTool } from './tools.ts';

const NAMES = ['chromium', 'chromium-browser'];

/** The first chromium executable on PATH, or null. */
export function findChromium(): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    for (const name of NAMES) {
      const file = join(dir, name);
      try {
        accessSync(file, constants.X_OK);
        return file;
      } catch {
        // not here
      }
    }
  }
  return null;
}

export const CHROMIUM_MISSING = 'chromium not installed (Debian/Ubuntu: apt-get install chromium); CI installs it';

export interface TestBrowser {
  browser: Browser;
  close(): Promise<void>;
}

/** Launches headless Chromium (playwright gives each launch a fresh temporary profile), no sandbox (root in CI), nothing fetched in the background. */
export async function launchChromium(executablePath = findChromium()): Promise<TestBrowser> {
  if (!executablePath) throw missingTool(CHROMIUM_MISSING);
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-dev-shm-usage',
    ],
  });
  return {
    browser,
    async close() {
      await browser.close().catch(() => undefined);
    },
  };
}

/** What a page did that a person would not want: console errors, uncaught errors, dialogs (alert() from injected script). */
export interface PageWatch {
  errors: string[];
  dialogs: string[];
}

/** A new page at `width` x `height` whose console errors, page errors and dialogs are recorded (dialogs are dismissed). */
export async function watchedPage(
  browser: Browser,
  width: number,
  height: number,
): Promise<{ context: BrowserContext; page: Page; watch: PageWatch }> {
  const context = await browser.newContext({ viewport: { width, height } });
  const page = await context.newPage();
  const watch: PageWatch = { errors: [], dialogs: [] };
  page.on('console', (message) => {
    if (message.type() === 'error') watch.errors.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => watch.errors.push(`pageerror: ${error.message}`));
  page.on('dialog', (dialog) => {
    watch.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    void dialog.dismiss();
  });
  return { context, page, watch };
}

/**
 * Makes the README's pictures of the status page: docs/status-page.png (1440 px) and docs/status-page-phone.png
 * (375 px), from `batchwatch demo` once its story has played (a failure, a stall, a task stuck in New).
 *   npx tsx scripts/status-screenshot.ts          # starts a demo, waits for the story, stops it
 *   npx tsx scripts/status-screenshot.ts URL      # a demo already running at URL (its status page)
 * Needs redis-server (for the demo) and chromium on PATH; the demo runs the build in dist/ (`npm ci` makes it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../test/helpers/browser.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const STORY_TIMEOUT_MS = 120_000;

interface StatusJson {
  alerts: { items: { kind: string }[] };
}

function startDemo(): Promise<{ proc: ChildProcess; url: string }> {
  const proc = spawn(process.execPath, ['bin/batchwatch.js', 'demo', '--port', '0'], {
    cwd: ROOT,
    env: { ...process.env, REDIS_URL: '' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    proc.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /status page\s+(http:\/\/\S+\/)\s/.exec(out);
      if (match) resolve({ proc, url: match[1]! });
    });
    proc.once('exit', (code) => reject(new Error(`batchwatch demo exited (${code}) before printing its status page:\n${out}`)));
  });
}

async function waitForStory(url: string): Promise<void> {
  const deadline = Date.now() + STORY_TIMEOUT_MS;
  for (;;) {
    const kinds = await fetch(new URL('api/v1/status', url))
      .then((r) => r.json() as Promise<StatusJson>)
      .then(
        (s) => new Set(s.alerts.items.map((a) => a.kind)),
        () => new Set<string>(),
      );
    if (['failed', 'stalled', 'stuck'].every((k) => kinds.has(k))) return;
    if (Date.now() > deadline)
      throw new Error(`the demo's story did not show within ${STORY_TIMEOUT_MS / 1000} s (alerts: ${[...kinds].join(', ') || 'none'})`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

async function main(): Promise<void> {
  const given = process.argv[2];
  const demo = given ? null : await startDemo();
  const url = given ?? demo!.url;
  const chromium = await launchChromium();
  try {
    process.stdout.write(`status page: ${url}; waiting for the demo's story…\n`);
    await waitForStory(url);
    mkdirSync(new URL('docs/', `file://${ROOT}`), { recursive: true });
    for (const [width, height, file] of [
      [1440, 900, 'docs/status-page.png'],
      [375, 812, 'docs/status-page-phone.png'],
    ] as const) {
      const context = await chromium.browser.newContext({ viewport: { width, height }, colorScheme: 'light' });
      const page = await context.newPage();
      await page.goto(url);
      await page.screenshot({ path: `${ROOT}${file}`, fullPage: true });
      await context.close();
      process.stdout.write(`wrote ${file} (${width} px)\n`);
    }
  } finally {
    await chromium.close();
    if (demo) {
      const exited = new Promise((r) => demo.proc.once('exit', r));
      demo.proc.kill('SIGINT');
      await exited;
    }
  }
}

await main();

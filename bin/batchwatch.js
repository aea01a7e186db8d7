#!/usr/bin/env node
// Starts batchwatch: the compiled JavaScript in dist/ (made by `npm run build`, which `npm ci` runs), all that
// production (the Docker image, `npm ci --omit=dev`) has. A development checkout runs the TypeScript sources through
// tsx (a devDependency) instead when dist/ is missing or BATCHWATCH_FROM_SOURCE=1; `npm test` builds first, so
// the CLI tests run what users run.
import { existsSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';

// Memory: by default V8 lets the heap grow to up to 4x what was live at the last full collection before it
// collects again, and keeps what it grew to. A poll of 100,000 tasks has ~200 MiB live at its peak, so the
// daemon sat at ~470-800 MiB RSS; growing by at most 50% keeps it at ~400-450 MiB with the same CPU per poll
// (`npm run bench`, BENCH_ONLY=daemon BENCH_SIZES=100000). V8 reads the flag whenever it recomputes the heap limit, so
// setting it here works like the command-line flag. A value given on node's command line
// (`node --heap-growing-percent=N bin/batchwatch.js`; 0 = V8's default) wins; Node refuses this flag in NODE_OPTIONS.
const flagGiven = process.execArgv.some((arg) => /^--heap[-_]growing[-_]percent\b/.test(arg));
if (!flagGiven) setFlagsFromString('--heap-growing-percent=50');

const compiled = new URL('../dist/cli/main.js', import.meta.url);
const sources = new URL('../src/cli/main.ts', import.meta.url);

async function loadMain() {
  const asked = process.env.BATCHWATCH_FROM_SOURCE === '1';
  if (!asked && existsSync(compiled)) return import(compiled.href);
  const missing = 'dist/ is missing: build it with `npm ci` (it runs `npm run build`)';
  if (!existsSync(sources)) throw new Error(missing);
  let tsx;
  try {
    tsx = await import('tsx/esm/api');
  } catch {
    throw new Error(asked ? 'BATCHWATCH_FROM_SOURCE=1 needs tsx, a devDependency that is not installed: run `npm ci`' : missing);
  }
  // Said once per start, on stderr: a checkout whose build failed or was skipped (--ignore-scripts) runs, but slower.
  if (!asked)
    process.stderr.write('batchwatch: dist/ is missing, running the TypeScript sources through tsx (`npm run build` compiles them)\n');
  tsx.register();
  return import(sources.href);
}

let main;
try {
  ({ main } = await loadMain());
} catch (error) {
  process.stderr.write(`batchwatch: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
const code = await main(process.argv.slice(2));
// Exit explicitly, once the output is flushed: a handle some library leaves behind (a reconnect
// timer while Redis is down) must never keep a stopped daemon alive.
await new Promise((resolve) => process.stdout.write('', resolve));
await new Promise((resolve) => process.stderr.write('', resolve));
process.exit(code);

#!/usr/bin/env node
// Runs the TypeScript sources directly (no build step): `npm ci && npx batchwatch --help` just works.
import { setFlagsFromString } from 'node:v8';
import { register } from 'tsx/esm/api';

// Memory: by default V8 lets the heap grow to up to 4x what was live at the last full collection before it
// collects again, and keeps what it grew to. A poll of 100,000 tasks has ~200 MiB live at its peak, so the
// daemon sat at ~470-800 MiB RSS; growing by at most 50% keeps it at ~450 MiB (measured with `npm run bench`,
// BENCH_ONLY=daemon BENCH_SIZES=100000) for some more GC work. A value given on the command line or in
// NODE_OPTIONS (--heap-growing-percent=N; 0 = V8's default) wins.
const flagGiven = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some((arg) => /^--heap[-_]growing[-_]percent\b/.test(arg));
if (!flagGiven) setFlagsFromString('--heap-growing-percent=50');

register();
const { main } = await import('../src/cli/main.ts');
const code = await main(process.argv.slice(2));
// Exit explicitly, once the output is flushed: a handle some library leaves behind (a reconnect
// timer while Redis is down) must never keep a stopped daemon alive.
await new Promise((resolve) => process.stdout.write('', resolve));
await new Promise((resolve) => process.stderr.write('', resolve));
process.exit(code);

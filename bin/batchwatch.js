#!/usr/bin/env node
// Runs the TypeScript sources directly (no build step): `npm ci && npx batchwatch --help` just works.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
const code = await main(process.argv.slice(2));
// Exit explicitly, once the output is flushed: a handle some library leaves behind (a reconnect
// timer while Redis is down) must never keep a stopped daemon alive.
await new Promise((resolve) => process.stdout.write('', resolve));
await new Promise((resolve) => process.stderr.write('', resolve));
process.exit(code);

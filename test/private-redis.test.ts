import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { findRedisServer, startPrivateRedis } from '../src/runtime/private-redis.ts';
import { runCli } from './helpers/cli.ts';
import { portOpen, waitUntil } from './helpers/wait.ts';

const fixture = fileURLToPath(new URL('./fixtures/start-redis-and-exit.ts', import.meta.url));

describe('private redis-server', () => {
  it('keeps data across stop/start and frees its port on close', async () => {
    const server = await startPrivateRedis();
    const client = new Redis(server.url, { maxRetriesPerRequest: null });
    client.on('error', () => undefined);
    await client.set('k', 'v');
    await server.stop();
    assert.equal(await portOpen(server.port), false);
    await server.start();
    assert.equal(await client.get('k'), 'v');
    client.disconnect();
    await server.close();
    assert.equal(await portOpen(server.port), false);
  });

  it('dies with the process that started it', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', fixture]);
    const port = Number(stdout.trim());
    assert.ok(port > 0);
    // The fixture has exited; its redis-server must go too (not be left listening).
    await waitUntil(async () => !(await portOpen(port)), 10_000, 'the redis-server of the exited process to stop (no orphan)');
  });

  it('demo says in one line how to get Redis when there is neither REDIS_URL nor redis-server', async () => {
    assert.equal(findRedisServer({ PATH: '/nonexistent' }), null);
    const result = await runCli(['demo'], { PATH: '/nonexistent', REDIS_URL: '' });
    assert.equal(result.code, 1);
    assert.equal(result.stderr.trim().split('\n').length, 1);
    assert.match(result.stderr, /set REDIS_URL=.*or put redis-server on PATH/);
  });
});

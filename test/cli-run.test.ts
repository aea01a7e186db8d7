import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { freePort } from '../src/runtime/private-redis.ts';
import { startSimulator, type Simulator } from '../src/simulator/server.ts';
import { startRedis, type PrivateRedis } from './helpers/redis.ts';
import { startSmtpServer, type TestSmtpServer } from './helpers/smtp.ts';
import { runCli, startCli } from './helpers/cli.ts';
import { pollsSettled } from './helpers/settle.ts';

function configYaml(o: { simulatorUrl: string; redisUrl: string; smtpPort: number; httpPort: number }): string {
  return `
superoffice:
  url: ${o.simulatorUrl}
  username: demo
  password: \${SO_PASSWORD}
  timeout: 3s
redis:
  url: ${o.redisUrl}
  prefix: e2e
schedules:
  - name: sales
    associates: [101, 102]
    every: 1s
rules:
  stallAfter: 3s
mail:
  smtp: smtp://127.0.0.1:${o.smtpPort}
  from: "batchwatch <batchwatch@example.com>"
  to: [ops@example.com]
  retryDelay: 500ms
http:
  host: 127.0.0.1
  port: ${o.httpPort}
`;
}

describe('batchwatch run as a child process', () => {
  let redis: PrivateRedis;
  let simulator: Simulator;
  let smtp: TestSmtpServer;
  let dir: string;
  let client: Redis;

  before(async () => {
    redis = await startRedis();
    client = new Redis(redis.url, { maxRetriesPerRequest: null });
    simulator = await startSimulator({ scenario: 'empty' });
    smtp = await startSmtpServer();
    dir = mkdtempSync(join(tmpdir(), 'batchwatch-e2e-'));
  });
  after(async () => {
    client.disconnect();
    await smtp.stop();
    await simulator.close();
    await redis.close();
  });

  it('mails a failure and a stall, serves metrics, and exits 0 within 10 s of SIGTERM', async () => {
    const httpPort = await freePort();
    const config = join(dir, 'batchwatch.yaml');
    writeFileSync(config, configYaml({ simulatorUrl: simulator.url, redisUrl: redis.url, smtpPort: smtp.port, httpPort }));
    simulator.upsertTask({
      id: 4711,
      associateId: 101,
      name: 'MailingSend',
      state: 'Failed',
      lastStarted: Date.now(),
      startCount: 1,
      response: 'relay refused',
    });
    simulator.upsertTask({
      id: 4712,
      associateId: 102,
      name: 'ExportSelection',
      state: 'Started',
      progressPercent: 40,
      lastStarted: Date.now(),
      startCount: 1,
    });
    const daemon = startCli(['run', '--config', config], { SO_PASSWORD: 'demo' });
    try {
      const messages = await smtp.waitForMessages(2, 20_000);
      const subjects = messages.map((m) => m.parsed.subject ?? '');
      assert.ok(
        subjects.some((s) => s.startsWith('[FIRING:1]') && s.includes('4711')),
        subjects.join(' | '),
      );
      assert.ok(
        subjects.some((s) => s.startsWith('[FIRING:1]') && s.includes('4712')),
        subjects.join(' | '),
      );
      const events = messages.map((m) => m.parsed.headers.get('x-batchwatch-events'));
      assert.deepEqual(events.sort(), ['failed=4711', 'stalled=4712']);

      const body = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
      assert.match(body, /superoffice_batch_task_state\{[^}]*task_id="4711"[^}]*state="Failed"[^}]*\} 1/);
      assert.match(body, /superoffice_batch_task_stalled\{[^}]*task_id="4712"[^}]*\} 1/);
      assert.match(body, /batchwatch_superoffice_up\{schedule="sales"\} 1/);
      assert.equal((await fetch(`http://127.0.0.1:${httpPort}/readyz`)).status, 200);
      await pollsSettled(client, 'e2e', 'sales', 3);
      assert.equal(smtp.messages.length, 2, 'no duplicate mail');
    } finally {
      const signalled = Date.now();
      daemon.proc.kill('SIGTERM');
      const { code } = await daemon.exited();
      const took = Date.now() - signalled;
      assert.equal(code, 0, daemon.stderr());
      assert.ok(took < 10_000, `shutdown took ${took} ms`);
    }
  });

  it('with Redis unreachable: stays up, /readyz 503, and still exits 0 within 10 s of SIGTERM', async () => {
    const httpPort = await freePort();
    const config = join(dir, 'no-redis.yaml');
    const deadRedis = `redis://127.0.0.1:${await freePort()}`;
    writeFileSync(config, configYaml({ simulatorUrl: simulator.url, redisUrl: deadRedis, smtpPort: smtp.port, httpPort }));
    const daemon = startCli(['run', '--config', config], { SO_PASSWORD: 'demo' });
    await daemon.waitForOutput(/HTTP listening/, 15_000);
    assert.equal((await fetch(`http://127.0.0.1:${httpPort}/readyz`)).status, 503);
    assert.equal((await fetch(`http://127.0.0.1:${httpPort}/healthz`)).status, 200);
    // Shut down while it keeps retrying Redis.
    await daemon.waitForOutput(/Redis unreachable; retrying/, 15_000);
    const signalled = Date.now();
    daemon.proc.kill('SIGTERM');
    // A daemon that hangs must fail this test, not hang it.
    const { code } = await Promise.race([
      daemon.exited(),
      sleep(12_000).then(() => {
        daemon.proc.kill('SIGKILL');
        return { code: -1 };
      }),
    ]);
    assert.equal(code, 0, daemon.stderr());
    assert.ok(Date.now() - signalled < 10_000, `shutdown took ${Date.now() - signalled} ms`);
  });

  it('exits 2 on a broken config and names the offending key', async () => {
    const config = join(dir, 'broken.yaml');
    writeFileSync(
      config,
      configYaml({ simulatorUrl: simulator.url, redisUrl: redis.url, smtpPort: smtp.port, httpPort: 0 }).replace(
        'stallAfter: 3s',
        'stallAfter: 15',
      ),
    );
    const result = await runCli(['run', '--config', config], { SO_PASSWORD: 'demo' });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /rules\.stallAfter/);
  });

  it('exits 2 on unknown commands and bad flags', async () => {
    assert.equal((await runCli(['frobnicate'])).code, 2);
    assert.equal((await runCli(['poll-once', '--bogus'])).code, 2);
    const help = await runCli(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /poll-once/);
  });
});

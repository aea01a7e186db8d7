import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { startSimulator, type Simulator } from '../src/simulator/server.ts';
import { startRedis, type PrivateRedis } from './helpers/redis.ts';
import { startSmtpServer, type TestSmtpServer } from './helpers/smtp.ts';
import { runCli } from './helpers/cli.ts';

describe('poll-once, check and send-test-email', () => {
  let redisServer: PrivateRedis;
  let redis: Redis;
  let simulator: Simulator;
  let smtp: TestSmtpServer;
  let config: string;

  before(async () => {
    redisServer = await startRedis();
    redis = new Redis(redisServer.url);
    simulator = await startSimulator({ scenario: 'empty' });
    smtp = await startSmtpServer();
    simulator.upsertTask({
      id: 4711,
      associateId: 101,
      name: 'MailingSend',
      state: 'Failed',
      lastStarted: Date.now() - 60_000,
      startCount: 2,
    });
    simulator.upsertTask({ id: 4712, associateId: 102, name: 'ExportSelection', state: 'Started', progressPercent: 40 });
    config = join(mkdtempSync(join(tmpdir(), 'batchwatch-cli-')), 'batchwatch.yaml');
    writeFileSync(
      config,
      `superoffice:
  url: ${simulator.url}
  username: demo
  password: \${SO_PASSWORD}
redis:
  url: ${redisServer.url}
  prefix: cli
schedules:
  - name: sales
    associates: [101]
  - name: support
    associates: [102]
    cron: "*/5 * * * *"
mail:
  smtp: smtp://127.0.0.1:${smtp.port}
  from: batchwatch@example.com
  to: [ops@example.com]
`.replace('    associates: [101]\n', '    associates: [101]\n    every: 30s\n'),
    );
  });
  after(async () => {
    redis.disconnect();
    await smtp.stop();
    await simulator.close();
    await redisServer.close();
  });

  const env = { SO_PASSWORD: 'demo' };

  it('poll-once --dry-run --json reports tasks and events and writes nothing', async () => {
    const result = await runCli(['poll-once', '--config', config, '--dry-run', '--json'], env);
    assert.equal(result.code, 0, result.stderr);
    const output = JSON.parse(result.stdout) as {
      dryRun: boolean;
      schedules: {
        schedule: string;
        result: string;
        tasks: { id: number; state: string }[];
        events: { kind: string; subject: string }[];
      }[];
    };
    assert.equal(output.dryRun, true);
    assert.deepEqual(
      output.schedules.map((s) => [s.schedule, s.result]),
      [
        ['sales', 'success'],
        ['support', 'success'],
      ],
    );
    assert.deepEqual(
      output.schedules[0]!.tasks.map((t) => [t.id, t.state]),
      [[4711, 'Failed']],
    );
    assert.deepEqual(
      output.schedules[0]!.events.map((e) => [e.kind, e.subject]),
      [['failed', '4711']],
    );
    assert.deepEqual(await redis.keys('cli:*'), []);
    assert.equal(smtp.messages.length, 0);
  });

  it('poll-once --schedule polls one schedule, commits, and mails the failure', async () => {
    const result = await runCli(['poll-once', '--config', config, '--schedule', 'sales'], env);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /schedule sales: success/);
    assert.match(result.stdout, /101\s+4711\s+MailingSend\s+Failed/);
    assert.match(result.stdout, /failed: task 4711 "MailingSend" \(associate 101\)/);
    assert.match(result.stdout, /notifications: delivered/);
    assert.doesNotMatch(result.stdout, /schedule support/);
    const [mail] = await smtp.waitForMessages(1, 5000);
    assert.equal(mail!.parsed.headers.get('x-batchwatch-events'), 'failed=4711');
    const again = await runCli(['poll-once', '--config', config, '--schedule', 'sales'], env);
    assert.match(again.stdout, /events: none/);
    assert.equal(smtp.messages.length, 1);
  });

  it('poll-once with an unknown schedule is a usage error', async () => {
    const result = await runCli(['poll-once', '--config', config, '--schedule', 'nope'], env);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /no schedule named "nope" \(configured: sales, support\)/);
  });

  it('poll-once with Redis down exits 1 and says Redis is the problem', async () => {
    await redisServer.stop();
    try {
      const result = await runCli(['poll-once', '--config', config, '--schedule', 'sales'], env);
      assert.equal(result.code, 1);
      assert.match(result.stderr, new RegExp(`Redis at redis://127\\.0\\.0\\.1:${redisServer.port} is not usable`));
    } finally {
      await redisServer.start();
    }
  });

  it('check prints one line per check and exits 0 when all pass', async () => {
    const result = await runCli(['check', '--config', config], env);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const lines = result.stdout.trim().split('\n');
    assert.deepEqual(
      lines.map((l) => l.split(/\s+/).slice(0, 2).join(' ')),
      ['ok config', 'ok redis', 'ok superoffice', 'ok schedule', 'ok schedule', 'ok smtp'],
    );
    assert.match(result.stdout, /schedule sales\s+1 task for 1 associate/);
  });

  it('check fails (exit 1) with the reason when SuperOffice refuses the password or SMTP is down', async () => {
    await smtp.stop();
    try {
      const result = await runCli(['check', '--config', config], { SO_PASSWORD: 'wrong-password' });
      assert.equal(result.code, 1);
      assert.match(result.stdout, /FAIL\s+superoffice auth\s+.*(rejected|password)/i);
      assert.match(result.stdout, /FAIL\s+smtp\s+.*ECONNREFUSED/);
      assert.doesNotMatch(result.stdout, /wrong-password/);
    } finally {
      await smtp.restart();
    }
  });

  it('check exits 2 on a config error, naming the key', async () => {
    const result = await runCli(['check', '--config', config], {});
    assert.equal(result.code, 2);
    assert.match(result.stdout, /FAIL\s+config/);
    assert.match(result.stdout, /SO_PASSWORD/);
  });

  it('send-test-email reports the SMTP answer', async () => {
    const before = smtp.messages.length;
    const result = await runCli(['send-test-email', '--config', config], env);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /250/);
    await smtp.waitForMessages(before + 1, 5000);
  });
});

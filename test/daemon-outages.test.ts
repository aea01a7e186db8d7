import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { parseConfig } from '../src/config/load.ts';
import { startDaemon, type Daemon } from '../src/daemon/daemon.ts';
import { createLogger } from '../src/log.ts';
import { startSimulator, type Simulator } from '../src/simulator/server.ts';
import { startRedis, type PrivateRedis } from './helpers/redis.ts';
import { pollsSettled } from './helpers/settle.ts';
import { startSmtpServer, type TestSmtpServer } from './helpers/smtp.ts';
import { waitUntil } from './helpers/wait.ts';

/** Collects the daemon's JSON log lines. */
class LogLines {
  readonly lines: { msg: string; [key: string]: unknown }[] = [];
  write(line: string): void {
    this.lines.push(JSON.parse(line) as { msg: string });
  }
  has(pattern: RegExp): boolean {
    return this.lines.some((l) => pattern.test(l.msg));
  }
  count(pattern: RegExp): number {
    return this.lines.filter((l) => pattern.test(l.msg)).length;
  }
}

const status = (url: string) =>
  fetch(url).then(
    (r) => r.status,
    () => 0,
  );

describe('the daemon keeps running through outages and says so', () => {
  let redis: PrivateRedis;
  let simulator: Simulator;
  let smtp: TestSmtpServer;
  let daemon: Daemon;
  const logs = new LogLines();
  let client: Redis;

  before(async () => {
    redis = await startRedis();
    client = new Redis(redis.url, { maxRetriesPerRequest: null });
    client.on('error', () => undefined);
    simulator = await startSimulator({ scenario: 'empty' });
    smtp = await startSmtpServer();
    const config = parseConfig(
      `superoffice: { url: "${simulator.url}", username: demo, password: demo, timeout: 2s }
redis: { url: "${redis.url}", prefix: outage }
schedules: [{ name: sales, associates: [101], every: 1s }]
rules: { unreachableAfter: 2 }
mail: { smtp: "smtp://127.0.0.1:${smtp.port}", from: bw@example.com, to: [ops@example.com], retryDelay: 200ms }
http: { host: 127.0.0.1, port: 0 }
`,
      {},
    );
    daemon = await startDaemon(config, createLogger('debug', logs));
  });
  after(async () => {
    await daemon.close();
    client.disconnect();
    await smtp.stop();
    await simulator.close();
    await redis.close();
  });

  it('logs its configuration at start with secrets masked', () => {
    const start = logs.lines.find((l) => /starting with this configuration/.test(l.msg));
    assert.ok(start, 'a start-up line with the configuration');
    const text = JSON.stringify(start);
    assert.match(text, /"associates":\[101\]/);
    assert.doesNotMatch(text, /"password":"demo"/);
    assert.match(text, /"password":"\*\*\*"/);
  });

  it('Redis down: /readyz 503 and one warning; back: /readyz 200, polls and mail resume', async () => {
    await waitUntil(async () => (await status(`${daemon.httpUrl}/readyz`)) === 200, 10_000, 'ready');
    await redis.stop();
    await waitUntil(async () => (await status(`${daemon.httpUrl}/readyz`)) === 503, 10_000, '/readyz 503');
    assert.equal(await status(`${daemon.httpUrl}/healthz`), 200, 'alive while Redis is down');
    const scrape = await fetch(`${daemon.httpUrl}/metrics`);
    assert.equal(scrape.status, 200, 'scrapes still answer');
    await waitUntil(() => logs.has(/Redis unreachable/), 5000, 'the outage in the log');
    // Several reconnect attempts, so that 'one warning, not one per retry' below means something.
    await waitUntil(() => logs.count(/Redis still unreachable/) >= 6, 15_000, 'several reconnect attempts');
    await redis.start();
    await waitUntil(async () => (await status(`${daemon.httpUrl}/readyz`)) === 200, 15_000, '/readyz 200 after restart');
    await waitUntil(() => logs.has(/Redis connection restored/), 5000, 'the recovery in the log');
    assert.ok(logs.lines.filter((l) => /Redis unreachable/.test(l.msg)).length <= 3, 'one warning per connection, not one per retry');

    simulator.upsertTask({ id: 9, associateId: 101, name: 'AfterOutage', state: 'Failed', lastStarted: Date.now() });
    const [mail] = await smtp.waitForMessages(1, 15_000);
    assert.equal(mail!.parsed.headers.get('x-batchwatch-events'), 'failed=9');
  });

  it('SuperOffice down: failed polls logged, superoffice-down mailed once, resolved when back', async () => {
    const before = smtp.messages.length;
    simulator.injectFault({ type: 'http500', times: 1000 });
    const messages = await smtp.waitForMessages(before + 1, 15_000);
    assert.equal(messages[before]!.parsed.headers.get('x-batchwatch-events'), 'superoffice-down=sales');
    assert.ok(logs.has(/SuperOffice poll failed/));
    await pollsSettled(client, 'outage', 'sales', 3);
    assert.equal(smtp.messages.length, before + 1, 'down is notified once while it lasts');
    simulator.clearFaults();
    const all = await smtp.waitForMessages(before + 2, 15_000);
    assert.match(all[before + 1]!.parsed.subject ?? '', /^\[RESOLVED/);
    assert.equal(all[before + 1]!.parsed.headers.get('x-batchwatch-events'), 'resolved=sales');
  });
});

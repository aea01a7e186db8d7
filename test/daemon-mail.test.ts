import assert from 'node:assert/strict';
import { rmSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { parseConfig } from '../src/config/load.ts';
import { startDaemon, type Daemon } from '../src/daemon/daemon.ts';
import { createLogger } from '../src/log.ts';
import { startSimulator, type Simulator } from '../src/simulator/server.ts';
import { parseSamples, sampleValue } from './helpers/prometheus-text.ts';
import { startRedis, type PrivateRedis } from './helpers/redis.ts';
import { startSmtpServer, type TestSmtpServer } from './helpers/smtp.ts';
import { makeTestPki, type TestPki } from './helpers/tls.ts';
import { waitUntil } from './helpers/wait.ts';

class LogLines {
  readonly lines: { msg: string; [key: string]: unknown }[] = [];
  write(line: string): void {
    this.lines.push(JSON.parse(line) as { msg: string });
  }
}

const readyz = async (daemon: Daemon) => {
  const response = await fetch(`${daemon.httpUrl}/readyz`);
  return { status: response.status, body: await response.text() };
};

describe('the daemon reports mail that cannot be delivered as a mail problem, not a Redis one', () => {
  let redis: PrivateRedis;
  let simulator: Simulator;
  let smtp: TestSmtpServer;
  let pki: TestPki;
  let daemon: Daemon | undefined;
  let prefixes = 0;

  before(async () => {
    redis = await startRedis();
    simulator = await startSimulator({ scenario: 'empty' });
    pki = makeTestPki();
  });
  afterEach(async () => {
    await daemon?.close();
    daemon = undefined;
    await smtp?.stop();
  });
  after(async () => {
    await simulator.close();
    await redis.close();
    pki.remove();
  });

  const config = (mail: string) =>
    parseConfig(
      `superoffice: { url: "${simulator.url}", username: demo, password: demo, timeout: 2s }
redis: { url: "${redis.url}", prefix: mailcheck${++prefixes} }
schedules: [{ name: sales, associates: [101], every: 1s }]
mail: { from: bw@example.com, to: [ops@example.com], retryDelay: 200ms, ${mail} }
http: { host: 127.0.0.1, port: 0 }
`,
      {},
    );

  it('a notifier that cannot start: /readyz 503 "mail: notifier cannot start", the log says so and does not blame Redis', async () => {
    smtp = await startSmtpServer({ tls: { ...pki.server, implicit: true } });
    const ca = join(pki.dir, 'ca-copy.pem');
    copyFileSync(pki.caFile, ca);
    const loaded = config(`smtp: "${smtp.url}", tls: { ca: "${ca}" }`);
    rmSync(ca); // gone between loading the config and starting the notifier
    const logs = new LogLines();
    daemon = await startDaemon(loaded, createLogger('info', logs));
    const started = daemon;
    await waitUntil(async () => (await readyz(started)).body.includes('mail:'), 10_000, '/readyz to name mail');
    const answer = await readyz(started);
    assert.equal(answer.status, 503);
    assert.match(answer.body, /- mail: notifier cannot start: mail\.tls\.ca: cannot read the CA file .*ca-copy\.pem \(no such file\)/);
    assert.doesNotMatch(answer.body, /redis|schedules not registered/);
    assert.ok(logs.lines.some((l) => /mail notifier cannot start/.test(l.msg)));
    assert.ok(!logs.lines.some((l) => /is Redis reachable/.test(l.msg)), 'Redis is not blamed');
  });

  it('an untrusted SMTP certificate: delivery pauses (mail stays queued), /readyz 503 names the fix, metrics count it', async () => {
    smtp = await startSmtpServer({ tls: { ...pki.server, implicit: true } });
    const logs = new LogLines();
    daemon = await startDaemon(config(`smtp: "${smtp.url}"`), createLogger('info', logs));
    const started = daemon;
    await waitUntil(
      async () => (await readyz(started)).status === 503 && (await readyz(started)).body.includes('mail:'),
      10_000,
      '/readyz 503 for mail',
    );
    assert.match((await readyz(started)).body, /- mail: the certificate of 127\.0\.0\.1 is not trusted .*set mail\.tls\.ca/);

    simulator.upsertTask({ id: 77, associateId: 101, name: 'Waits', state: 'Failed', lastStarted: Date.now(), startCount: 1 });
    let samples = parseSamples('');
    await waitUntil(
      async () => {
        samples = parseSamples(await (await fetch(`${started.httpUrl}/metrics`)).text());
        return sampleValue(samples, 'batchwatch_notification_queue_depth', {}) === 1;
      },
      15_000,
      'the failure to wait in the queue',
    );
    assert.equal(sampleValue(samples, 'batchwatch_mail_delivery_paused', {}), 1);
    assert.equal(sampleValue(samples, 'batchwatch_mail_configuration_errors_total', { cause: 'certificate' }), 1);
    assert.equal(sampleValue(samples, 'batchwatch_notifications_total', { outcome: 'retried' }), 0, 'no retries burnt');
    assert.equal(smtp.messages.length, 0);
    assert.equal(logs.lines.filter((l) => /mail delivery paused/.test(l.msg)).length, 1, 'logged once');
  });
});

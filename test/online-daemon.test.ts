import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { parseConfig } from '../src/config/load.ts';
import { startDaemon, type Daemon } from '../src/daemon/daemon.ts';
import { createLogger } from '../src/log.ts';
import { startSimulator, type Simulator } from '../src/simulator/server.ts';
import { leaked, onlineApp, onlineSecrets, simulatorSystemUser } from './helpers/online.ts';
import { PROMTOOL_MISSING, usePromtool, parseSamples, promtool, sampleValue } from './helpers/prometheus-text.ts';
import { startRedis, type PrivateRedis } from './helpers/redis.ts';
import { startSmtpServer, type TestSmtpServer } from './helpers/smtp.ts';
import { waitUntil } from './helpers/wait.ts';

/**
 * The daemon against a SuperOffice Online tenant (the simulator): system user login, a planned maintenance
 * that is not an outage, and no secret in any output. Real Redis, real SMTP, real HTTP.
 */

class LogLines {
  readonly raw: string[] = [];
  write(line: string): void {
    this.raw.push(line);
  }
  count(pattern: RegExp): number {
    return this.raw.filter((line) => pattern.test((JSON.parse(line) as { msg: string }).msg)).length;
  }
}

/** Every value Redis holds under any key, as text. */
async function dumpRedis(url: string): Promise<string> {
  const redis = new Redis(url);
  try {
    const parts: string[] = [];
    for (const key of await redis.keys('*')) {
      const type = await redis.type(key);
      if (type === 'string') parts.push(String(await redis.get(key)));
      else if (type === 'hash') parts.push(JSON.stringify(await redis.hgetall(key)));
      else if (type === 'list') parts.push(JSON.stringify(await redis.lrange(key, 0, -1)));
      else if (type === 'set') parts.push(JSON.stringify(await redis.smembers(key)));
      else if (type === 'zset') parts.push(JSON.stringify(await redis.zrange(key, '0', '-1', 'WITHSCORES')));
      else if (type === 'stream') parts.push(JSON.stringify(await redis.xrange(key, '-', '+')));
      parts.push(key);
    }
    return parts.join('\n');
  } finally {
    redis.disconnect();
  }
}

describe('a SuperOffice Online tenant: system user login and planned maintenance', () => {
  const app = onlineApp('daemon');
  const dir = mkdtempSync(join(tmpdir(), 'batchwatch-online-'));
  const logs = new LogLines();
  let redis: PrivateRedis;
  let sim: Simulator;
  let smtp: TestSmtpServer;
  let daemon: Daemon;

  const metrics = async () => {
    const body = await (await fetch(`${daemon.httpUrl}/metrics`)).text();
    return { body, samples: parseSamples(body) };
  };
  const metric = async (name: string, labels: Record<string, string> = { schedule: 'online' }) =>
    sampleValue((await metrics()).samples, name, labels);
  const polls = (result: string) => metric('batchwatch_polls_total', { schedule: 'online', result });
  const downMails = () => smtp.messages.filter((m) => /superoffice-down=online/.test(String(m.parsed.headers.get('x-batchwatch-events'))));

  before(async () => {
    redis = await startRedis();
    smtp = await startSmtpServer();
    sim = await startSimulator({ scenario: 'empty', systemUser: simulatorSystemUser(app), tenantStateValidMs: 300 });
    sim.upsertTask({ id: 77, associateId: 101, name: 'ExportSelection', state: 'Started', progressPercent: 10 });
    const keyFile = join(dir, 'app.pem');
    writeFileSync(keyFile, app.privateKeyPem, { mode: 0o600 });
    const certificateFile = join(dir, 'superoffice-jwt.pem');
    writeFileSync(certificateFile, sim.jwtCertificate ?? '');
    const origin = new URL(sim.url).origin;
    const config = parseConfig(
      `superoffice:
  url: "${sim.url}"
  applicationToken: \${SO_CLIENT_SECRET}
  systemUser:
    token: \${SO_SYSTEM_USER_TOKEN}
    privateKeyFile: "${keyFile}"
    jwtCertificate: "${certificateFile}"
  tenantStatusUrl: "${origin}/api/state"
  timeout: 2s
redis: { url: "${redis.url}", prefix: online }
schedules: [{ name: online, associates: [101], every: 1s }]
rules: { unreachableAfter: 2, repeatInterval: 0s }
mail: { smtp: "smtp://127.0.0.1:${smtp.port}", from: bw@example.com, to: [ops@example.com], retryDelay: 200ms }
http: { host: 127.0.0.1, port: 0 }
`,
      { SO_CLIENT_SECRET: app.clientSecret, SO_SYSTEM_USER_TOKEN: app.token },
    );
    daemon = await startDaemon(config, createLogger('debug', logs));
  });
  after(async () => {
    await daemon?.close();
    await smtp?.stop();
    await sim?.close();
    await redis?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs in once as the system user and polls with that ticket', async () => {
    await waitUntil(async () => (await polls('success')) >= 3, 15_000, 'three successful polls');
    assert.equal(sim.stats.systemUserLogins, 1, 'one login, not one per poll');
    assert.equal(await metric('batchwatch_superoffice_up'), 1);
    assert.equal(await metric('batchwatch_superoffice_maintenance'), 0);
    assert.equal(logs.count(/logged in to SuperOffice Online as the system user/), 1);
  });

  it('planned maintenance: metric 1, a /readyz note, one log line, and no superoffice-down mail after many failed polls', async () => {
    sim.setTenantState('OfflineMaintenance');
    await waitUntil(async () => (await metric('batchwatch_superoffice_maintenance')) === 1, 15_000, 'maintenance metric 1');
    assert.equal(await metric('batchwatch_superoffice_up'), 0, 'not up either');
    const failuresAtStart = await polls('failure');
    // unreachableAfter is 2: six more failed polls would have fired superoffice-down three times over.
    await waitUntil(async () => (await polls('failure')) >= failuresAtStart + 6, 20_000, 'six more failed polls');
    assert.equal(await metric('batchwatch_events_detected_total', { schedule: 'online', kind: 'superoffice-down' }), 0);
    assert.equal(await metric('batchwatch_notification_queue_depth', {}), 0);
    assert.deepEqual(downMails(), [], 'no superoffice-down mail during maintenance');
    assert.equal(await metric('batchwatch_consecutive_poll_failures'), 0, 'maintenance polls are not counted');

    const ready = await fetch(`${daemon.httpUrl}/readyz`);
    const text = await ready.text();
    assert.equal(ready.status, 200, 'maintenance is a note, not unreadiness');
    assert.match(text, /note: schedule online: tenant Cust1 is in planned maintenance \(OfflineMaintenance\) since \d{4}-/);
    assert.equal(logs.count(/^tenant in planned maintenance/), 1, 'one line when it starts, not one per poll');
    assert.equal(logs.count(/^SuperOffice poll failed$/), 0, 'failed maintenance polls are not warned about one by one');
    assert.equal(sim.stats.systemUserLogins, 1, 'no login because of the maintenance');
  });

  it('back to Running but still failing: counts towards superoffice-down as usual; resolved when it answers', async () => {
    const mailsBefore = smtp.messages.length;
    sim.injectFault({ type: 'http500', times: 10_000 });
    sim.setTenantState(null);
    const [down] = (await smtp.waitForMessages(mailsBefore + 1, 20_000)).slice(mailsBefore);
    assert.equal(down!.parsed.headers.get('x-batchwatch-events'), 'superoffice-down=online');
    assert.equal(await metric('batchwatch_superoffice_maintenance'), 0);
    assert.equal(logs.count(/^tenant no longer reports maintenance .* still fails/), 1);
    assert.equal(logs.count(/^tenant in planned maintenance/), 1);
    sim.clearFaults();
    const [resolved] = (await smtp.waitForMessages(mailsBefore + 2, 20_000)).slice(mailsBefore + 1);
    assert.equal(resolved!.parsed.headers.get('x-batchwatch-events'), 'resolved=online');
    assert.equal(downMails().length, 1);
  });

  it('a maintenance that ends with a successful poll logs its end and resolves nothing', async () => {
    const mailsBefore = smtp.messages.length;
    sim.setTenantState('Suspended');
    await waitUntil(async () => (await metric('batchwatch_superoffice_maintenance')) === 1, 15_000, 'maintenance again');
    sim.setTenantState(null);
    await waitUntil(
      async () => (await metric('batchwatch_superoffice_maintenance')) === 0 && (await metric('batchwatch_superoffice_up')) === 1,
      15_000,
      'up again',
    );
    const successes = await polls('success');
    await waitUntil(async () => (await polls('success')) >= successes + 2, 10_000, 'two more successful polls');
    assert.equal(smtp.messages.length, mailsBefore, 'no mail for a maintenance');
    assert.equal(logs.count(/^tenant maintenance over: SuperOffice answers again/), 1);
  });

  it('a ticket SuperOffice refuses means exactly one new login, then polls go on with it', async () => {
    assert.equal(sim.stats.systemUserLogins, 1);
    sim.expireTickets();
    await waitUntil(() => sim.stats.systemUserLogins === 2, 10_000, 'the re-login');
    const successes = await polls('success');
    await waitUntil(async () => (await polls('success')) >= successes + 3, 10_000, 'three more successful polls');
    assert.equal(sim.stats.systemUserLogins, 2, 'exactly one re-login');
  });

  it('no secret in logs, mail, metrics, /readyz or Redis', async () => {
    const secrets = onlineSecrets(app, sim);
    assert.ok(sim.stats.systemUserSecrets.length >= 6, 'two logins issued signed tokens, JWTs and tickets');
    const { body } = await metrics();
    const outputs: Record<string, string> = {
      logs: logs.raw.join('\n'),
      mail: smtp.messages.map((m) => m.raw).join('\n'),
      metrics: body,
      readyz: await (await fetch(`${daemon.httpUrl}/readyz`)).text(),
      redis: await dumpRedis(redis.url),
    };
    assert.ok(outputs.redis!.includes('ExportSelection'), 'the Redis dump holds the snapshot');
    for (const [where, text] of Object.entries(outputs)) assert.deepEqual(leaked(text, secrets), [], `a secret in ${where}`);
  });

  it('/metrics with the maintenance gauge passes promtool check metrics', { skip: !usePromtool && PROMTOOL_MISSING }, async () => {
    const { body } = await metrics();
    assert.match(body, /# TYPE batchwatch_superoffice_maintenance gauge/);
    assert.equal(promtool(['check', 'metrics'], body).output, '');
  });
});

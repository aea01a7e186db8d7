import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startSimulator, type Simulator } from '../src/simulator/server.ts';
import { runCli } from './helpers/cli.ts';
import { leaked, onlineApp, onlineSecrets, simulatorSystemUser } from './helpers/online.ts';
import { startRedis, type PrivateRedis } from './helpers/redis.ts';
import { startSmtpServer, type TestSmtpServer } from './helpers/smtp.ts';

/** `batchwatch check` and `poll-once` against an Online tenant, and a bad Online config exiting 2. */

describe('batchwatch check with a system user', () => {
  const app = onlineApp('cli');
  const dir = mkdtempSync(join(tmpdir(), 'batchwatch-cli-online-'));
  let redis: PrivateRedis;
  let smtp: TestSmtpServer;
  let sim: Simulator;
  let config: string;
  const env = () => ({ SO_CLIENT_SECRET: app.clientSecret, SO_SYSTEM_USER_TOKEN: app.token, SO_PRIVATE_KEY: app.privateKeyPem });

  before(async () => {
    redis = await startRedis();
    smtp = await startSmtpServer();
    sim = await startSimulator({ scenario: 'empty', systemUser: simulatorSystemUser(app), tenantStateValidMs: 0 });
    const certificateFile = join(dir, 'superoffice-jwt.pem');
    writeFileSync(certificateFile, sim.jwtCertificate ?? '');
    config = join(dir, 'batchwatch.yaml');
    writeFileSync(
      config,
      `superoffice:
  url: ${sim.url}
  applicationToken: \${SO_CLIENT_SECRET}
  systemUser:
    token: \${SO_SYSTEM_USER_TOKEN}
    privateKey: \${SO_PRIVATE_KEY}
    jwtCertificate: ${certificateFile}
  tenantStatusUrl: ${new URL(sim.url).origin}/api/state
redis: { url: "${redis.url}", prefix: cli-online }
schedules: [{ name: online, associates: [101], every: 30s }]
mail: { smtp: "smtp://127.0.0.1:${smtp.port}", from: bw@example.com, to: [ops@example.com] }
`,
    );
  });
  after(async () => {
    await sim?.close();
    await smtp?.stop();
    await redis?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs in and prints the tenant, the claim it used, the URL claims and the tenant state', async () => {
    const result = await runCli(['check', '--config', config], env());
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /^ok +tenant state +Cust1 is Running \(http:\/\/127\.0\.0\.1:\d+\/api\/state\/Cust1\)$/m);
    assert.match(
      result.stdout,
      /^ok +superoffice auth .*\(system user of tenant Cust1 via http:\/\/127\.0\.0\.1:\d+\/login, ticket from JWT claim http:\/\/schemes\.superoffice\.net\/identity\/ticket; JWT signature and exp verified with .*superoffice-jwt\.pem, \d+ ms\)$/m,
    );
    assert.match(
      result.stdout,
      /^ok +superoffice claims +netserver_url http:\/\/127\.0\.0\.1:\d+\/Cust1\/Remote\/Services85\/, webapi_url http:\/\/127\.0\.0\.1:\d+\/Cust1\/api\/$/m,
    );
    assert.match(result.stdout, /^ok +schedule online +0 tasks for 1 associate/m);
    assert.equal(sim.stats.systemUserLogins, 1);
    assert.deepEqual(leaked(result.stdout + result.stderr, onlineSecrets(app, sim)), []);
  });

  it('says when the tenant is in maintenance (and why the calls fail)', async () => {
    sim.setTenantState('OfflineMaintenance');
    try {
      const result = await runCli(['check', '--config', config], env());
      assert.equal(result.code, 1, 'the schedule call fails');
      assert.match(
        result.stdout,
        /^ok +tenant state +Cust1 is in planned maintenance \(OfflineMaintenance\): failed polls are not counted as an outage/m,
      );
      assert.match(result.stdout, /^FAIL +schedule online .*HTTP 503 .*\(the tenant is in planned maintenance: OfflineMaintenance\)$/m);
      const poll = await runCli(['poll-once', '--config', config, '--dry-run'], env());
      assert.match(poll.stdout, /tenant in planned maintenance \(OfflineMaintenance\): not counted as an outage/);
      assert.deepEqual(leaked(result.stdout + result.stderr + poll.stdout + poll.stderr, onlineSecrets(app, sim)), []);
    } finally {
      sim.setTenantState(null);
    }
  });

  it('a tenant status service that fails is a FAIL line naming superoffice.tenantStatusUrl', async () => {
    sim.failTenantState(true);
    try {
      const result = await runCli(['check', '--config', config], env());
      assert.equal(result.code, 1);
      assert.match(result.stdout, /^FAIL +tenant state .*HTTP 500 .*\(superoffice\.tenantStatusUrl\)$/m);
    } finally {
      sim.failTenantState(false);
    }
  });

  it('a refused login is a FAIL line quoting SuperOffice, without any secret', async () => {
    const wrongKey = onlineApp('wrong').privateKeyPem;
    const result = await runCli(['check', '--config', config], { ...env(), SO_PRIVATE_KEY: wrongKey });
    assert.equal(result.code, 1);
    assert.match(
      result.stdout,
      /^FAIL +superoffice auth .*SuperOffice refused the system user login for tenant Cust1: The signature of the system user token is not valid/m,
    );
    assert.deepEqual(leaked(result.stdout + result.stderr, [...onlineSecrets(app, sim), wrongKey]), []);
  });

  it('a private key that does not parse exits 2 naming the key, for check and run, without echoing it', async () => {
    const broken = app.privateKeyPem.replace(/\n[A-Za-z0-9+/]{8}/, '\n########');
    for (const command of ['check', 'run']) {
      const result = await runCli([command, '--config', config], { ...env(), SO_PRIVATE_KEY: broken });
      assert.equal(result.code, 2, `${command}: ${result.stdout}${result.stderr}`);
      assert.match(result.stdout + result.stderr, /superoffice\.systemUser\.privateKey: is not an RSA private key in PEM form/);
      assert.deepEqual(
        leaked(result.stdout + result.stderr, [
          ...onlineSecrets(app, sim),
          ...broken.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----')),
        ]),
        [],
      );
    }
  });
});

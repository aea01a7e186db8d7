import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { startSimulator, type Simulator } from '../src/simulator/server.ts';
import { runCli } from './helpers/cli.ts';
import { startTokenServer, type TokenServer } from './helpers/oauth2-server.ts';
import { startRedis, type PrivateRedis } from './helpers/redis.ts';
import { startSmtpServer, type TestSmtpServer } from './helpers/smtp.ts';
import { makeTestPki, type TestPki } from './helpers/tls.ts';

describe('check and send-test-email explain mail problems by cause', () => {
  let redis: PrivateRedis;
  let simulator: Simulator;
  let pki: TestPki;
  let dir: string;
  let smtp: TestSmtpServer | undefined;
  let tokens: TokenServer | undefined;

  before(async () => {
    redis = await startRedis();
    simulator = await startSimulator({ scenario: 'empty' });
    pki = makeTestPki();
    dir = mkdtempSync(join(tmpdir(), 'bw-cli-mail-'));
  });
  afterEach(async () => {
    await smtp?.stop();
    await tokens?.close();
  });
  after(async () => {
    await simulator.close();
    await redis.close();
    pki.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  function configFile(name: string, mail: string): string {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(
      file,
      `superoffice: { url: "${simulator.url}", username: demo, password: demo }
redis: { url: "${redis.url}", prefix: climail }
schedules: [{ name: sales, associates: [101], every: 60s }]
mail:
  from: "batchwatch <bw@example.com>"
  to: [ops@example.com]
${mail}`,
    );
    return file;
  }
  const smtpLine = (stdout: string) => stdout.split('\n').find((line) => /^\S+\s+smtp\s/.test(line)) ?? '';

  it('an untrusted certificate: check FAILs naming the host and mail.tls.ca; with mail.tls.ca it passes', async () => {
    smtp = await startSmtpServer({ tls: { ...pki.server, implicit: false } });
    const [untrusted, trusted, sent] = await Promise.all([
      runCli(['check', '--config', configFile('untrusted', `  smtp: smtp://127.0.0.1:${smtp.port}\n`)]),
      runCli(['check', '--config', configFile('trusted', `  smtp: smtp://127.0.0.1:${smtp.port}\n  tls: { ca: "${pki.caFile}" }\n`)]),
      runCli(['send-test-email', '--config', configFile('send-untrusted', `  smtp: smtp://127.0.0.1:${smtp.port}\n`)]),
    ]);
    assert.equal(untrusted.code, 1);
    assert.match(
      smtpLine(untrusted.stdout),
      /^FAIL\s+smtp\s+SMTP smtp:\/\/127\.0\.0\.1:\d+: the certificate of 127\.0\.0\.1 is not trusted .*set mail\.tls\.ca/,
    );
    assert.equal(trusted.code, 0, trusted.stdout);
    assert.match(smtpLine(trusted.stdout), /^ok\s+smtp\s+smtp:\/\/127\.0\.0\.1:\d+ reachable, trusting mail\.tls\.ca /);
    assert.equal(sent.code, 1);
    assert.match(sent.stdout, /^not sent \(configuration problem\): .*set mail\.tls\.ca/);
  });

  it('XOAUTH2: check logs in with a token, send-test-email delivers; a wrong secret names mail.oauth2 and no secret is printed', async () => {
    tokens = await startTokenServer({ clientId: 'app', clientSecret: 'Right-Client-Secret', scope: 'smtp' });
    const issued = tokens;
    smtp = await startSmtpServer({
      tls: { ...pki.server, implicit: false },
      xoauth2: { user: 'alerts@example.com', accepts: (token) => issued.accepts(token) },
    });
    const good = configFile(
      'oauth2',
      `  smtp: smtp://127.0.0.1:${smtp.port}\n  tls: { ca: "${pki.caFile}" }\n  oauth2:\n    user: alerts@example.com\n    tokenUrl: ${issued.url}\n    clientId: app\n    clientSecret: \${SMTP_CLIENT_SECRET}\n    scope: smtp\n`,
    );

    const [check, sent, wrong] = await Promise.all([
      runCli(['check', '--config', good], { SMTP_CLIENT_SECRET: 'Right-Client-Secret' }),
      runCli(['send-test-email', '--config', good], { SMTP_CLIENT_SECRET: 'Right-Client-Secret' }),
      runCli(['send-test-email', '--config', good], { SMTP_CLIENT_SECRET: 'Wrong-Client-Secret' }),
    ]);
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.match(smtpLine(check.stdout), /reachable, logged in as alerts@example\.com \(XOAUTH2\)/);
    assert.equal(sent.code, 0, sent.stdout + sent.stderr);
    await smtp.waitForMessages(1);

    assert.equal(wrong.code, 1);
    assert.match(
      wrong.stdout,
      /^not sent \(configuration problem\): .*invalid_client.*check mail\.oauth2\.clientId and mail\.oauth2\.clientSecret/,
    );
    const printed = check.stdout + check.stderr + sent.stdout + sent.stderr + wrong.stdout + wrong.stderr;
    for (const secret of ['Right-Client-Secret', 'Wrong-Client-Secret', ...issued.issued])
      assert.ok(!printed.includes(secret), `${secret} printed`);
  });
});

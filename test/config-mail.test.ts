import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError, parseConfig } from '../src/config/load.ts';
import { parseSmtpUrl } from '../src/config/smtp-url.ts';
import { redactedConfig, registerConfigSecrets } from '../src/redact/config.ts';
import { SecretSet } from '../src/redact/secrets.ts';
import { runCli } from './helpers/cli.ts';
import { makeTestPki, type TestPki } from './helpers/tls.ts';

const head = `
superoffice:
  url: https://sod.superoffice.com/Cust12345
  ticket: \${SO_TICKET}
schedules:
  - name: sales
    associates: [12]
    every: 60s
`;
const ENV = { SO_TICKET: '7T:ticket-value' };

function yaml(mail: string): string {
  return `${head}mail:\n  from: "batchwatch <batchwatch@example.com>"\n  to: [ops@example.com]\n${mail}`;
}

function issues(text: string, env: NodeJS.ProcessEnv = ENV): { path: string; message: string }[] {
  try {
    parseConfig(text, env, 'test.yaml');
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error.issues;
  }
  assert.fail('expected the config to be rejected');
}

function assertIssue(text: string, path: string, message: RegExp, env: NodeJS.ProcessEnv = ENV): string {
  const found = issues(text, env);
  const match = found.find((it) => it.path === path && message.test(it.message));
  assert.ok(match, `no issue at ${path} matching ${message}; got ${JSON.stringify(found)}`);
  return match.message;
}

describe('mail.smtp is fully validated at load time (after ${} substitution)', () => {
  const smtp = (url: string) => yaml(`  smtp: ${url}\n`);

  it('a % that is not percent-encoding (e.g. from SMTP_PASSWORD) names mail.smtp and SMTP_PASSWORD; the password is not echoed', () => {
    const message = assertIssue(
      smtp('smtp://mailer:${SMTP_PASSWORD}@smtp.example.com:587'),
      'mail.smtp',
      /password that is not valid percent-encoding/,
      {
        ...ENV,
        SMTP_PASSWORD: 'p%zzword',
      },
    );
    assert.match(message, /SMTP_USERNAME and SMTP_PASSWORD/);
    assert.doesNotMatch(message, /p%zzword/);
  });

  for (const password of ['pa#ss', 'pa/ss', 'pa?ss', '12/34']) {
    it(`a password with ${JSON.stringify(password)} points at SMTP_PASSWORD instead of suggesting a URL form that fails`, () => {
      const message = assertIssue(smtp('smtp://mailer:${SMTP_PASSWORD}@smtp.example.com:587'), 'mail.smtp', /SMTP_PASSWORD/, {
        ...ENV,
        SMTP_PASSWORD: password,
      });
      assert.ok(!message.includes(password), message);
      assert.doesNotMatch(message, /user:\$\{SMTP_PASSWORD\}@/, 'does not suggest the form that failed');
    });
  }

  for (const [url, message] of [
    ['smtp://smtp.example.com:0', /port that is not a number from 1 to 65535/],
    ['smtp://smtp.example.com:65536', /port that is not a number from 1 to 65535/],
    ['smtp://smtp.example.com:abc', /port that is not a number from 1 to 65535/],
    ['smtp://smtp.example.com:587?requireTLS=maybe', /option requireTLS must be true or false, got "maybe"/],
    ['smtp://smtp.example.com:587?tlsRejectUnauthorized=nope', /option tlsRejectUnauthorized must be true or false/],
    ['smtp://smtp.example.com:587?allowPlaintextAuth=sometimes', /option allowPlaintextAuth must be true or false/],
    [
      'smtp://smtp.example.com:587?starttls=true',
      /unknown option "starttls" \(known: requireTLS, tlsRejectUnauthorized, allowPlaintextAuth\)/,
    ],
    ['smtp://smtp.example.com:587?requireTLS=true&requireTLS=false', /gives option requireTLS twice/],
    ['smtp://smtp.example.com:587/relay', /must not have a path/],
    ['http://smtp.example.com', /must be an smtp:\/\/ or smtps:\/\/ URL/],
    ['smtp://:secret-only@smtp.example.com', /has a password but no user/],
  ] as const) {
    it(`rejects ${url}`, () => {
      assertIssue(smtp(url), 'mail.smtp', message);
    });
  }

  it('accepts the documented forms and reads the options', () => {
    for (const url of [
      'smtp://smtp.example.com',
      'smtps://u%40x.org:p%25w@smtp.example.com:465',
      'smtp://[::1]:2525?requireTLS=true&allowPlaintextAuth=yes',
    ]) {
      parseConfig(smtp(url), ENV);
    }
    assert.deepEqual(parseSmtpUrl('smtps://u%40x.org:p%25w@smtp.example.com:465', {}).auth, { user: 'u@x.org', pass: 'p%w' });
    const target = parseSmtpUrl('smtp://[::1]:2525?requireTLS=true&allowPlaintextAuth=yes', {});
    assert.deepEqual([target.host, target.port, target.requireTLS, target.allowPlaintextAuth], ['::1', 2525, true, true]);
    assert.deepEqual(
      parseSmtpUrl('smtp://relay', { SMTP_USERNAME: 'u', SMTP_PASSWORD: 'p#?/%' }).auth,
      { user: 'u', pass: 'p#?/%' },
      'the environment form takes any character',
    );
  });

  it('a bad mail.smtp makes `check` and `run` exit 2 naming mail.smtp', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bw-mailcfg-'));
    try {
      const file = join(dir, 'bad.yaml');
      writeFileSync(file, smtp('smtp://mailer:${SMTP_PASSWORD}@smtp.example.com:587'));
      const env = { ...ENV, SMTP_PASSWORD: 'has%zz-percent' };
      const commands = ['check', 'run'];
      const results = await Promise.all(commands.map((command) => runCli([command, '--config', file], env)));
      results.forEach((result, i) => {
        assert.equal(result.code, 2, `${commands[i]}: ${result.stdout}${result.stderr}`);
        assert.match(result.stdout + result.stderr, /mail\.smtp: has a password that is not valid percent-encoding/);
        assert.doesNotMatch(result.stdout + result.stderr, /has%zz-percent/);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('mail.oauth2 and mail.tls', () => {
  let pki: TestPki;
  before(() => {
    pki = makeTestPki();
  });
  after(() => pki.remove());

  const oauth2 = (lines: string, smtpUrl = 'smtp://smtp.office365.com:587') =>
    yaml(
      `  smtp: ${smtpUrl}\n  oauth2:\n    user: alerts@example.com\n    tokenUrl: https://login.microsoftonline.com/t/oauth2/v2.0/token\n    clientId: app\n    clientSecret: \${SMTP_CLIENT_SECRET}\n${lines}`,
    );
  const env = { ...ENV, SMTP_CLIENT_SECRET: 'client-secret-value', SMTP_REFRESH_TOKEN: 'refresh-token-value' };

  it('reads both grants; the client secret and refresh token are secrets (masked and scrubbed)', () => {
    const m365 = parseConfig(oauth2('    scope: https://outlook.office365.com/.default\n'), env);
    assert.deepEqual(m365.mail.oauth2, {
      user: 'alerts@example.com',
      tokenUrl: 'https://login.microsoftonline.com/t/oauth2/v2.0/token',
      clientId: 'app',
      clientSecret: 'client-secret-value',
      scope: 'https://outlook.office365.com/.default',
    });
    const gmail = parseConfig(oauth2('    refreshToken: ${SMTP_REFRESH_TOKEN}\n', 'smtps://smtp.gmail.com:465'), env);
    assert.equal(gmail.mail.oauth2?.refreshToken, 'refresh-token-value');
    const redacted = JSON.stringify(redactedConfig(gmail));
    assert.ok(!redacted.includes('client-secret-value') && !redacted.includes('refresh-token-value'), redacted);
    const set = new SecretSet();
    registerConfigSecrets(gmail, set);
    assert.equal(set.scrub('client-secret-value refresh-token-value'), '*** ***');
  });

  it('needs exactly one of scope and refreshToken', () => {
    assertIssue(oauth2(''), 'mail.oauth2', /needs scope \(client-credentials grant.*\) or refreshToken/, env);
    assertIssue(oauth2('    scope: x\n    refreshToken: ${SMTP_REFRESH_TOKEN}\n'), 'mail.oauth2', /not both/, env);
  });

  it('is exclusive with user:password in mail.smtp', () => {
    const message = assertIssue(
      oauth2('    scope: x\n', 'smtp://u:${SMTP_CLIENT_SECRET}@smtp.office365.com:587'),
      'mail.smtp',
      /has user:password while mail\.oauth2 is set/,
      env,
    );
    assert.doesNotMatch(message, /client-secret-value/);
  });

  it('rejects unknown keys, missing fields and a plain-http token endpoint elsewhere than this machine', () => {
    assertIssue(oauth2('    scope: x\n    tenant: t\n'), 'mail.oauth2.tenant', /unknown key/, env);
    assertIssue(oauth2('    scope: x\n').replace('    clientId: app\n', ''), 'mail.oauth2.clientId', /is required/, env);
    assertIssue(
      oauth2('    scope: x\n').replace('https://login.microsoftonline.com', 'http://login.example.com'),
      'mail.oauth2.tokenUrl',
      /must be an https:\/\/ URL/,
      env,
    );
    parseConfig(oauth2('    scope: x\n').replace('https://login.microsoftonline.com', 'http://127.0.0.1:8080'), env);
  });

  it('bad values of user, clientSecret and scope name their key', () => {
    const ok = '    scope: https://outlook.office365.com/.default\n';
    const withUser = (user: string) => oauth2(ok).replace('    user: alerts@example.com\n', `    user: ${user}\n`);
    assertIssue(withUser('alerts'), 'mail.oauth2.user', /must be a mailbox address \(user@example\.com/, env);
    assertIssue(withUser('"Alerts <alerts@example.com>"'), 'mail.oauth2.user', /must be a mailbox address/, env);
    assertIssue(withUser('"alerts@example.com\\u0001auth=Bearer x"'), 'mail.oauth2.user', /control characters/, env);
    assertIssue(withUser('""'), 'mail.oauth2.user', /must not be empty/, env);
    assertIssue(oauth2(ok).replace('${SMTP_CLIENT_SECRET}', '"  "'), 'mail.oauth2.clientSecret', /must not be empty/, env);
    assertIssue(oauth2(ok).replace('${SMTP_CLIENT_SECRET}', '[a, b]'), 'mail.oauth2.clientSecret', /expected a string, got a list/, env);
    assertIssue(oauth2('    scope: [https://outlook.office365.com/.default]\n'), 'mail.oauth2.scope', /expected a string, got a list/, env);
    assertIssue(oauth2('    scope: "a\\nb"\n'), 'mail.oauth2.scope', /control characters/, env);
  });

  it('check exits 2 naming mail.oauth2.user when it is not a mailbox', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'batchwatch-oauth2-user-'));
    try {
      const file = join(dir, 'config.yaml');
      writeFileSync(file, oauth2('    scope: x\n').replace('user: alerts@example.com', 'user: alerts'));
      const result = await runCli(['check', '--config', file], env);
      assert.equal(result.code, 2, result.stdout + result.stderr);
      assert.match(result.stdout, /mail\.oauth2\.user: must be a mailbox address/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the commented mail.oauth2 and mail.tls blocks of config/batchwatch.example.yaml load once uncommented', () => {
    const example = readFileSync(resolve('config/batchwatch.example.yaml'), 'utf8');
    // Only the mail section: other sections have commented tls blocks of their own.
    const mailAt = example.indexOf('\nmail:\n');
    assert.ok(mailAt > 0, 'the example config has a mail section');
    const uncommented =
      example.slice(0, mailAt) +
      example
        .slice(mailAt)
        .replace('smtp://batchwatch:${SMTP_PASSWORD}@smtp.example.com:587', 'smtp://smtp.example.com:587')
        .replace(/^ {2}# (oauth2:|tls:)$/gm, '  $1')
        .replace(/^ {2}# {3}((?:user|tokenUrl|clientId|clientSecret|scope|ca):.*)$/gm, '    $1')
        .replace('/etc/ssl/certs/private-ca.pem', pki.caFile);
    const config = parseConfig(uncommented, {
      SO_USERNAME: 'u',
      SO_PASSWORD: 'p',
      SMTP_CLIENT_ID: 'id',
      SMTP_CLIENT_SECRET: 'secret-value',
    });
    assert.equal(config.mail.oauth2?.scope, 'https://outlook.office365.com/.default');
    assert.equal(config.mail.tls?.ca, pki.caFile);
  });

  it('mail.tls.ca must be a readable PEM certificate file', () => {
    const tls = (ca: string) => yaml(`  smtp: smtp://smtp.example.com:587\n  tls:\n    ca: ${ca}\n`);
    assert.equal(parseConfig(tls(pki.caFile), ENV).mail.tls?.ca, pki.caFile);
    assertIssue(tls(join(pki.dir, 'missing.pem')), 'mail.tls.ca', /cannot read the CA file .*missing\.pem \(no such file\)/);
    assertIssue(tls(join(pki.dir, 'server.key')), 'mail.tls.ca', /is not a PEM certificate file/);
    const broken = join(pki.dir, 'broken.pem');
    writeFileSync(broken, '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n');
    assertIssue(tls(broken), 'mail.tls.ca', /certificate 1 of 1 cannot be read/);
    assertIssue(
      yaml('  smtp: smtp://smtp.example.com:587\n  tls:\n    cafile: x\n'),
      'mail.tls.cafile',
      /unknown key \(known keys here: ca\)/,
    );
  });
});

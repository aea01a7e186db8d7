import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, loadConfig, parseConfig } from '../src/config/load.ts';
import { configSecrets, redactedConfig } from '../src/redact/config.ts';
import { SecretSet } from '../src/redact/secrets.ts';
import { selfSignedCertificate } from '../src/simulator/certificate.ts';
import { rsaKeyValueXml } from './helpers/online.ts';

/** superoffice.systemUser and superoffice.tenantStatusUrl: SuperOffice Online's keys, their defaults and every bad value. */

const dir = mkdtempSync(join(tmpdir(), 'batchwatch-system-user-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PRIVATE_KEY = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const keyFile = join(dir, 'app.pem');
writeFileSync(keyFile, PRIVATE_KEY, { mode: 0o600 });
const certificateFile = join(dir, 'jwt.pem');
writeFileSync(certificateFile, selfSignedCertificate(rsa.publicKey, rsa.privateKey, 'test signer'));

const TOKEN = 'SYSTEM-USER-TOKEN-abc123';
const ENV = { SO_CLIENT_SECRET: 'client-secret-xyz', SO_SYSTEM_USER_TOKEN: TOKEN, SO_PRIVATE_KEY: PRIVATE_KEY };

function yaml(superoffice: string): string {
  return `
superoffice:
  url: https://online.superoffice.com/Cust12345
${superoffice}
schedules:
  - name: sales
    associates: [12]
    every: 60s
mail:
  enabled: false
`;
}

const INLINE = `  applicationToken: \${SO_CLIENT_SECRET}
  systemUser:
    token: \${SO_SYSTEM_USER_TOKEN}
    privateKey: \${SO_PRIVATE_KEY}`;

function configError(text: string, env: Record<string, string> = ENV): ConfigError {
  try {
    parseConfig(text, env, 'test.yaml');
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the config to be rejected');
}

/** An issue at exactly `path` matching `message`, named in the error text, and no key material anywhere in it. */
function assertIssue(error: ConfigError, path: string, message: RegExp): void {
  const found = error.issues.find((it) => it.path === path && message.test(it.message));
  assert.ok(found, `no issue at ${path} matching ${message}; got:\n${error.message}`);
  assert.ok(error.message.includes(`${path}: ${found.message}`), error.message);
  assertNoKeyMaterial(error.message);
}

function assertNoKeyMaterial(text: string): void {
  const body = PRIVATE_KEY.split('\n').filter((line) => line && !line.startsWith('-----'));
  for (const line of body) assert.ok(!text.includes(line), `a line of the private key leaked: ${text}`);
  assert.ok(!text.includes('PRIVATE KEY-----\nMII'), text);
  assert.ok(!text.includes(TOKEN), text);
}

describe('superoffice.systemUser: valid', () => {
  it('reads an inline key (from the environment), defaults loginUrl to scheme and host + /login', () => {
    const config = parseConfig(yaml(INLINE), ENV);
    const systemUser = config.superoffice.systemUser;
    assert.ok(systemUser);
    assert.equal(systemUser.token, TOKEN);
    assert.equal(systemUser.privateKey, PRIVATE_KEY.trim());
    assert.equal(systemUser.loginUrl, 'https://online.superoffice.com/login');
    assert.equal(systemUser.jwtCertificate, undefined);
    assert.equal(config.superoffice.applicationToken, 'client-secret-xyz');
    assert.equal(config.superoffice.tenantStatusUrl, undefined);
  });

  it('accepts a key whose line breaks arrive as \\n (one-line environment values)', () => {
    const config = parseConfig(yaml(INLINE), { ...ENV, SO_PRIVATE_KEY: PRIVATE_KEY.trim().replace(/\n/g, '\\n') });
    assert.equal(config.superoffice.systemUser?.privateKey, PRIVATE_KEY.trim());
  });

  it('accepts the RSAKeyValue XML that SuperOffice hands out, inline or as a file, and scrubs each of its values', () => {
    const xml = rsaKeyValueXml(rsa.privateKey);
    const inline = parseConfig(yaml(INLINE), { ...ENV, SO_PRIVATE_KEY: xml });
    assert.equal(inline.superoffice.systemUser?.privateKey, xml);
    const xmlFile = join(dir, 'app.xml');
    writeFileSync(xmlFile, `<?xml version="1.0"?>\n${xml}\n`);
    const fromFile = parseConfig(yaml(INLINE.replace('privateKey: ${SO_PRIVATE_KEY}', `privateKeyFile: ${xmlFile}`)), ENV);
    assert.match(fromFile.superoffice.systemUser?.privateKey ?? '', /^<\?xml/);
    const set = new SecretSet();
    for (const secret of configSecrets(inline)) set.add(secret);
    const d = /<D>([^<]+)<\/D>/.exec(xml)?.[1] ?? '';
    assert.equal(set.scrub(`leaked ${d}`), 'leaked ***');
    const broken = configError(yaml(INLINE), { ...ENV, SO_PRIVATE_KEY: xml.replace(/<D>[^<]+<\/D>/, '') });
    assertIssue(broken, 'superoffice.systemUser.privateKey', /RSAKeyValue XML key that cannot be read \(it needs .* and D\)/);
    assert.ok(!broken.message.includes(/<P>([^<]+)/.exec(xml)?.[1] ?? 'x'));
  });

  it('reads privateKeyFile, loginUrl, jwtCertificate and tenantStatusUrl', () => {
    const config = parseConfig(
      yaml(`  applicationToken: \${SO_CLIENT_SECRET}
  systemUser:
    token: \${SO_SYSTEM_USER_TOKEN}
    privateKeyFile: ${keyFile}
    loginUrl: https://sod.superoffice.com/login/
    jwtCertificate: ${certificateFile}
  tenantStatusUrl: https://sod.superoffice.com/api/state/`),
      ENV,
    );
    const systemUser = config.superoffice.systemUser;
    assert.equal(systemUser?.privateKeyFile, keyFile);
    assert.equal(systemUser?.privateKey, PRIVATE_KEY.trim());
    assert.equal(systemUser?.loginUrl, 'https://sod.superoffice.com/login');
    assert.equal(systemUser?.jwtCertificate?.file, certificateFile);
    assert.match(systemUser?.jwtCertificate?.pem ?? '', /BEGIN CERTIFICATE/);
    assert.equal(config.superoffice.tenantStatusUrl, 'https://sod.superoffice.com/api/state');
  });

  it('a systemUser block whose values are all empty is not configured (the example file keeps one)', () => {
    const config = parseConfig(
      yaml(`  ticket: t-123
  systemUser:
    token: \${SO_SYSTEM_USER_TOKEN:-}
    privateKey: \${SO_PRIVATE_KEY:-}
  tenantStatusUrl: \${SO_TENANT_STATUS_URL:-}`),
      {},
    );
    assert.equal(config.superoffice.systemUser, undefined);
    assert.equal(config.superoffice.ticket, 't-123');
  });

  it('masks the token and the key in the printed config, and registers them (and each key line) as secrets', () => {
    const config = parseConfig(yaml(INLINE.replace('privateKey: ${SO_PRIVATE_KEY}', `privateKeyFile: ${keyFile}`)), ENV);
    const shown = JSON.stringify(redactedConfig(config));
    assertNoKeyMaterial(shown);
    assert.match(shown, /"token":"\*\*\*"/);
    assert.match(shown, /"privateKey":"\*\*\*"/);
    assert.ok(shown.includes(keyFile), 'the key file path is shown');
    const set = new SecretSet();
    for (const secret of configSecrets(config)) set.add(secret);
    const oneLine = PRIVATE_KEY.split('\n')[3] ?? '';
    assert.equal(set.scrub(`token ${TOKEN} and a fragment ${oneLine}`), 'token *** and a fragment ***');
    assert.equal(set.scrub(JSON.stringify({ key: PRIVATE_KEY.trim() })), '{"key":"***"}');
  });
});

describe('config/batchwatch.example.yaml with SuperOffice Online', () => {
  it('loads with a system user and a tenant status URL from the environment', () => {
    const config = loadConfig(resolve('config/batchwatch.example.yaml'), {
      SO_APPLICATION_TOKEN: 'client-secret-xyz',
      SO_SYSTEM_USER_TOKEN: TOKEN,
      SO_PRIVATE_KEY: PRIVATE_KEY.trim().replace(/\n/g, '\\n'),
      SO_JWT_CERTIFICATE: certificateFile,
      SO_TENANT_STATUS_URL: 'https://online.superoffice.com/api/state',
      SMTP_PASSWORD: 's',
    });
    assert.equal(config.superoffice.systemUser?.loginUrl, 'https://sod.superoffice.com/login');
    assert.equal(config.superoffice.systemUser?.jwtCertificate?.file, certificateFile);
    assert.equal(config.superoffice.tenantStatusUrl, 'https://online.superoffice.com/api/state');
  });
});

describe('superoffice credentials: exactly one kind', () => {
  it('ticket and systemUser together name both keys', () => {
    const error = configError(yaml(`  ticket: t-123\n${INLINE}`));
    assertIssue(
      error,
      'superoffice',
      /exactly one of ticket, username\+password, systemUser \(found superoffice\.ticket and superoffice\.systemUser\)/,
    );
  });

  it('username/password and systemUser together name both keys', () => {
    const error = configError(yaml(`  username: bob\n  password: pw\n${INLINE}`));
    assertIssue(error, 'superoffice', /found superoffice\.username\/password and superoffice\.systemUser/);
  });

  it('ticket and username/password together', () => {
    const error = configError(yaml('  ticket: t-123\n  username: bob\n  password: pw'));
    assertIssue(error, 'superoffice', /found superoffice\.ticket and superoffice\.username\/password/);
  });

  it('none of them names systemUser as the Online option', () => {
    const error = configError(yaml('  timeout: 30s'));
    assertIssue(error, 'superoffice', /needs either ticket, or username and password \(onsite\), or systemUser \(SuperOffice Online\)/);
  });
});

describe('superoffice.systemUser: bad values exit 2 naming the key, never echoing key material', () => {
  const write = (name: string, text: string) => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };
  const withKeyFile = (file: string) => yaml(INLINE.replace('privateKey: ${SO_PRIVATE_KEY}', `privateKeyFile: ${file}`));

  it('a private key that does not parse', () => {
    const broken = PRIVATE_KEY.replace(/\n[A-Za-z0-9+/]{10}/, '\n!!!!!!!!!!');
    const error = configError(yaml(INLINE), { ...ENV, SO_PRIVATE_KEY: broken });
    assertIssue(error, 'superoffice.systemUser.privateKey', /is not an RSA private key in PEM form/);
    assert.ok(!error.message.includes(broken.slice(40, 100)));
  });

  it('a public key, an EC key and an encrypted key given as privateKey', () => {
    const publicPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    assertIssue(
      configError(yaml(INLINE), { ...ENV, SO_PRIVATE_KEY: publicPem }),
      'superoffice.systemUser.privateKey',
      /not an RSA private key/,
    );
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    assertIssue(
      configError(yaml(INLINE), { ...ENV, SO_PRIVATE_KEY: ec }),
      'superoffice.systemUser.privateKey',
      /must be an RSA private key \(this is a ec key\)/,
    );
    const encrypted = rsa.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }).toString();
    assertIssue(
      configError(yaml(INLINE), { ...ENV, SO_PRIVATE_KEY: encrypted }),
      'superoffice.systemUser.privateKey',
      /encrypted with a passphrase/,
    );
  });

  it('a missing, unreadable or wrong key file', () => {
    assertIssue(configError(withKeyFile(join(dir, 'nope.pem'))), 'superoffice.systemUser.privateKeyFile', /file .*nope\.pem not found/);
    assertIssue(configError(withKeyFile(dir)), 'superoffice.systemUser.privateKeyFile', /is a directory/);
    const garbage = write('garbage.pem', 'hello\n');
    assertIssue(configError(withKeyFile(garbage)), 'superoffice.systemUser.privateKeyFile', /garbage\.pem is not an RSA private key/);
    if (process.getuid?.() !== 0) {
      const locked = write('locked.pem', PRIVATE_KEY);
      chmodSync(locked, 0o000);
      assertIssue(configError(withKeyFile(locked)), 'superoffice.systemUser.privateKeyFile', /cannot be read by this user \(EACCES\)/);
    }
  });

  it('both privateKey and privateKeyFile, or neither', () => {
    const both = configError(yaml(`${INLINE}\n    privateKeyFile: ${keyFile}`));
    assertIssue(both, 'superoffice.systemUser.privateKeyFile', /either privateKey .* or privateKeyFile, not both/);
    const neither = configError(
      yaml(INLINE.replace('    privateKey: ${SO_PRIVATE_KEY}', '    loginUrl: https://online.superoffice.com/login')),
    );
    assertIssue(neither, 'superoffice.systemUser', /needs privateKey .* or privateKeyFile/);
  });

  it('a jwtCertificate that is missing or not a certificate', () => {
    const missing = configError(yaml(`${INLINE}\n    jwtCertificate: ${join(dir, 'none.pem')}`));
    assertIssue(missing, 'superoffice.systemUser.jwtCertificate', /none\.pem not found/);
    const notCertificate = configError(yaml(`${INLINE}\n    jwtCertificate: ${keyFile}`));
    assertIssue(notCertificate, 'superoffice.systemUser.jwtCertificate', /is not an X\.509 certificate in PEM form/);
  });

  it('an empty token, a bad loginUrl, an unknown key', () => {
    assertIssue(configError(yaml(INLINE), { ...ENV, SO_SYSTEM_USER_TOKEN: ' ' }), 'superoffice.systemUser.token', /must not be empty/);
    assertIssue(
      configError(yaml(`${INLINE}\n    loginUrl: online.superoffice.com/login`)),
      'superoffice.systemUser.loginUrl',
      /http:\/\/ or https:\/\/ URL/,
    );
    assertIssue(
      configError(yaml(`${INLINE}\n    private_key_file: x`)),
      'superoffice.systemUser.private_key_file',
      /unknown key \(did you mean "privateKeyFile"\?\)/,
    );
  });

  it('without applicationToken (the client secret)', () => {
    const error = configError(yaml(INLINE.replace('  applicationToken: ${SO_CLIENT_SECRET}\n', '')));
    assertIssue(error, 'superoffice.applicationToken', /is required with systemUser/);
  });

  it('a superoffice.url without a ContextIdentifier', () => {
    const error = configError(yaml(INLINE).replace('https://online.superoffice.com/Cust12345', 'https://online.superoffice.com/'));
    assertIssue(error, 'superoffice.url', /must end with the tenant's ContextIdentifier .* when systemUser is set/);
  });
});

describe('superoffice.tenantStatusUrl: bad values', () => {
  it('not an http(s) URL', () => {
    const error = configError(yaml(`${INLINE}\n  tenantStatusUrl: ftp://online.superoffice.com/api/state`));
    assertIssue(error, 'superoffice.tenantStatusUrl', /http:\/\/ or https:\/\/ URL/);
  });

  it('needs a ContextIdentifier in superoffice.url', () => {
    const error = configError(
      yaml('  ticket: t-123\n  tenantStatusUrl: https://online.superoffice.com/api/state').replace(
        'https://online.superoffice.com/Cust12345',
        'https://online.superoffice.com',
      ),
    );
    assertIssue(error, 'superoffice.url', /ContextIdentifier .* when tenantStatusUrl is set/);
  });
});

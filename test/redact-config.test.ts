import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configSecrets, redactedConfig, redactUrl } from '../src/redact/config.ts';
import { parseConfig } from '../src/config/load.ts';
import type { Config } from '../src/config/types.ts';

const YAML = `
superoffice:
  url: https://sod.superoffice.com/Cust12345
  applicationToken: \${SO_APPLICATION_TOKEN}
  ticket: \${SO_TICKET}
  username: bob
  password: \${SO_PASSWORD}
redis:
  url: redis://:\${REDIS_PASSWORD}@redis.local:6379
schedules:
  - name: sales
    associates: [12]
    every: 60s
mail:
  smtp: smtps://mailer:\${SMTP_PASSWORD}@smtp.example.com:465
  from: batchwatch@example.com
  to: [ops@example.com]
`;
const SECRETS = {
  SO_APPLICATION_TOKEN: 'app-token-123',
  SO_TICKET: '7T:ticket-456',
  SO_PASSWORD: 'so-pass-789',
  REDIS_PASSWORD: 'redis-pass-000',
  SMTP_PASSWORD: 'smtp-pass-111',
};

/**
 * A config holds one kind of SuperOffice credentials (exactly one of ticket, username+password, systemUser);
 * to check that every secret field is masked, the parsed username/password config also gets the ticket.
 */
function parseWithEveryCredential(yaml: string, env: Record<string, string>): Config {
  const config = parseConfig(yaml.replace(/ {2}ticket.*\n/, ''), env);
  return { ...config, superoffice: { ...config.superoffice, ticket: env.SO_TICKET ?? '' } };
}

describe('redactedConfig', () => {
  it('hides every secret and keeps everything else', () => {
    const config = parseWithEveryCredential(YAML, SECRETS);
    const redacted = redactedConfig(config);
    const text = JSON.stringify(redacted);
    for (const secret of Object.values(SECRETS)) assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);

    // Everything else as configured; durations as the file writes them (issue 13: not 900000 for 15m).
    assert.deepEqual(redacted, {
      ...config,
      superoffice: { ...config.superoffice, applicationToken: '***', ticket: '***', password: '***', timeout: '30s' },
      redis: { ...config.redis, url: 'redis://:***@redis.local:6379' },
      schedules: [{ ...config.schedules[0], timing: { every: '1m' } }],
      rules: { ...config.rules, stallAfter: '15m', queuedTimeout: '10m', firstSeenWindow: '1h', repeatInterval: '4h' },
      mail: { ...config.mail, smtp: 'smtps://mailer:***@smtp.example.com:465', retryDelay: '30s', retryFor: '1d' },
    });
  });

  it('does not change the config it was given', () => {
    const config = parseWithEveryCredential(YAML, SECRETS);
    const before = structuredClone(config);
    redactedConfig(config);
    assert.deepEqual(config, before);
  });

  it('leaves absent secrets absent and URLs without a password as they are', () => {
    const config = parseConfig(
      YAML.replace(/ {2}applicationToken.*\n {2}ticket.*\n/, '')
        .replace(/redis:\n.*\n/, '')
        .replace('mailer:${SMTP_PASSWORD}@', ''),
      SECRETS,
    );
    const redacted = redactedConfig(config) as typeof config;
    assert.equal('applicationToken' in redacted.superoffice, false);
    assert.equal('ticket' in redacted.superoffice, false);
    assert.equal(redacted.superoffice.password, '***');
    assert.equal(redacted.redis.url, 'redis://127.0.0.1:6379');
    assert.equal(redacted.mail.smtp, 'smtps://smtp.example.com:465');
  });
});

describe('redactUrl', () => {
  it('hides the password only', () => {
    assert.equal(redactUrl('smtp://user:p%40ss@host:587'), 'smtp://user:***@host:587');
    assert.equal(redactUrl('smtp://user@host:587'), 'smtp://user@host:587');
    assert.equal(redactUrl(''), '');
  });

  it('hides the whole value when it cannot be parsed but looks like it holds credentials', () => {
    assert.equal(redactUrl('smtp host:secret@x'), '***');
    assert.equal(redactUrl('no url here'), 'no url here');
  });
});

describe('redactUrl for Redis', () => {
  it('hides a password given in the user slot of a redis:// URL', () => {
    assert.equal(redactUrl('redis://s3cretpass@redis.local:6379/0'), 'redis://***@redis.local:6379/0');
    assert.equal(redactUrl('rediss://:s3cretpass@redis.local:6380'), 'rediss://:***@redis.local:6380');
  });
});

describe('configSecrets', () => {
  it('collects credentials, decoded and as written, from fields and URLs', () => {
    const config = parseWithEveryCredential(YAML.replace('redis://:${REDIS_PASSWORD}@', 'redis://${REDIS_PASSWORD}@'), {
      ...SECRETS,
      SMTP_PASSWORD: 'p%40ss-word',
    });
    const found = configSecrets(config);
    for (const expected of ['app-token-123', '7T:ticket-456', 'so-pass-789', 'redis-pass-000', 'p%40ss-word', 'p@ss-word']) {
      assert.ok(found.includes(expected), `${expected} in ${found.join(', ')}`);
    }
  });
});

describe('redactedConfig durations', () => {
  it('shows durations as the config writes them, not in milliseconds', () => {
    const yaml = `${YAML.replace(/ {2}ticket: .*\n/, '')}rules:\n  stallAfter: 15m\n  tasks:\n    - name: "Mailing*"\n      stallAfter: 2h\n`;
    const config = parseConfig(yaml, SECRETS);
    const shown = JSON.stringify(redactedConfig(config));
    assert.match(shown, /"stallAfter":"15m"/);
    assert.match(shown, /"stallAfter":"2h"/);
    assert.match(shown, /"every":"1m"/);
    assert.match(shown, /"timeout":"30s"/);
    assert.match(shown, /"retryFor":"1d"/);
    assert.doesNotMatch(shown, /900000/);
  });
});

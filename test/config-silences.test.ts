import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, parseConfig } from '../src/config/load.ts';
import { redactedConfig, registerConfigSecrets } from '../src/redact/config.ts';
import { SecretSet } from '../src/redact/secrets.ts';

const BASE = `
superoffice:
  url: https://sod.superoffice.com/Cust12345
  ticket: 7T:abcdefghijkl
schedules:
  - name: sales
    associates: [12]
    every: 60s
mail:
  enabled: false
`;
const TOKEN = 'an-admin-token-of-32-characters!';

function configError(yaml: string): ConfigError {
  try {
    parseConfig(yaml, {}, 'test.yaml');
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the config to be rejected');
}

function assertIssue(error: ConfigError, path: string, message: RegExp): void {
  const found = error.issues.find((it) => it.path === path && message.test(it.message));
  assert.ok(found, `no issue at ${path} matching ${message}; got:\n${error.message}`);
}

describe('config: maintenance windows', () => {
  it('reads windows with defaults (tz UTC, match everything) and matchers', () => {
    const config = parseConfig(
      `${BASE}
maintenance:
  - name: saturday-reindex
    cron: "0 22 * * 6"
    tz: Europe/Oslo
    duration: 4h
    match: { task: "FreeText*", kind: stalled, schedule: sales, associate: 0, taskId: "42" }
  - name: nightly
    cron: "@daily"
    duration: 30m
`,
      {},
    );
    assert.deepEqual(config.maintenance, [
      {
        name: 'saturday-reindex',
        cron: '0 22 * * 6',
        tz: 'Europe/Oslo',
        duration: 4 * 3_600_000,
        match: { task: 'FreeText*', taskId: 42, associate: 0, schedule: 'sales', kind: 'stalled' },
      },
      { name: 'nightly', cron: '@daily', tz: 'UTC', duration: 30 * 60_000, match: {} },
    ]);
  });

  it('a config without maintenance or adminToken is as before', () => {
    const config = parseConfig(BASE, {});
    assert.equal(config.maintenance, undefined);
    assert.equal('adminToken' in config.http, false);
  });

  it('every bad value names its key', () => {
    const error = configError(`${BASE}
maintenance:
  - name: a
    cron: "0 25 * * *"
    tz: Mars/Olympus
    duration: 4
    match: { kind: exploded, taskId: -1, associate: x, schedule: nowhere, colour: red }
  - name: a
    cron: "0 22 * * 6"
    duration: 500ms
  - cron: "0 22 * * 6"
    duration: 1h
  - name: b
    duration: 1h
`);
    assertIssue(error, 'maintenance[0].cron', /not a valid cron expression/);
    assertIssue(error, 'maintenance[0].tz', /not an IANA time zone/);
    assertIssue(error, 'maintenance[0].duration', /need a unit/);
    assertIssue(error, 'maintenance[0].match.kind', /failed, stalled, stuck, superoffice-down/);
    assertIssue(error, 'maintenance[0].match.taskId', /at least 1/);
    assertIssue(error, 'maintenance[0].match.associate', /expected a number/);
    assertIssue(error, 'maintenance[0].match.schedule', /no schedule named "nowhere" \(configured: sales\)/);
    assertIssue(error, 'maintenance[0].match.colour', /unknown key \(known keys here: task, taskId, associate, schedule, kind\)/);
    assertIssue(error, 'maintenance[1].name', /already the name of maintenance\[0\]/);
    assertIssue(error, 'maintenance[1].duration', /at least 1s/);
    assertIssue(error, 'maintenance[2].name', /is required/);
    assertIssue(error, 'maintenance[3].cron', /is required/);
  });

  it('maintenance must be a list, and a window a mapping', () => {
    assertIssue(configError(`${BASE}\nmaintenance: { name: x }\n`), 'maintenance', /expected a list/);
    assertIssue(configError(`${BASE}\nmaintenance: [nightly]\n`), 'maintenance[0]', /expected a mapping/);
  });
});

describe('config: http.adminToken', () => {
  it('is read, trimmed, registered as a secret and masked when the config is shown', () => {
    const config = parseConfig(`${BASE}\nhttp:\n  adminToken: \${ADMIN_TOKEN}\n`, { ADMIN_TOKEN: ` ${TOKEN} ` });
    assert.equal(config.http.adminToken, TOKEN);
    const set = new SecretSet();
    registerConfigSecrets(config, set);
    assert.equal(set.scrub(`Bearer ${TOKEN}`), 'Bearer ***');
    assert.ok(!JSON.stringify(redactedConfig(config)).includes(TOKEN));
    assert.match(JSON.stringify(redactedConfig(config)), /"adminToken":"\*\*\*"/);
  });

  it('empty (e.g. ${ADMIN_TOKEN:-}) counts as not configured', () => {
    const config = parseConfig(`${BASE}\nhttp:\n  adminToken: \${ADMIN_TOKEN:-}\n`, {});
    assert.equal(config.http.adminToken, undefined);
  });

  it('too short, with spaces, or not a string: named, never echoed', () => {
    const short = configError(`${BASE}\nhttp:\n  adminToken: short-secret\n`);
    assertIssue(short, 'http.adminToken', /at least 16 characters/);
    assert.ok(!short.message.includes('short-secret'));
    assertIssue(configError(`${BASE}\nhttp:\n  adminToken: "two words in a long token"\n`), 'http.adminToken', /must not contain spaces/);
    assertIssue(configError(`${BASE}\nhttp:\n  adminToken: [a]\n`), 'http.adminToken', /expected a string/);
  });
});

describe('config: a bad maintenance window stops the daemon', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bw-maint-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('batchwatch run exits 2 naming the key', () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, `${BASE}\nmaintenance:\n  - name: x\n    cron: "0 22 * * 6"\n    duration: forever\n`);
    const result = spawnSync(process.execPath, ['bin/batchwatch.js', 'run', '--config', file], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, /maintenance\[0\]\.duration: "forever" is not a duration/);
  });
});

describe('config/batchwatch.example.yaml: the silences parts', () => {
  it('its commented maintenance window is valid when uncommented, and adminToken comes from the environment', async () => {
    const { readFileSync } = await import('node:fs');
    const text = readFileSync('config/batchwatch.example.yaml', 'utf8');
    const block = text.slice(text.indexOf('# maintenance:'));
    const uncommented = text.replace(block, block.replace(/^# ?/gm, ''));
    const config = parseConfig(uncommented, { SO_USERNAME: 'u', SO_PASSWORD: 'p', SMTP_PASSWORD: 's', BATCHWATCH_ADMIN_TOKEN: TOKEN });
    assert.deepEqual(
      config.maintenance?.map((w) => [w.name, w.cron, w.tz, w.duration, w.match]),
      [['saturday-reindex', '0 22 * * 6', 'Europe/Oslo', 4 * 3_600_000, { task: 'FreeText*', kind: 'stalled' }]],
    );
    assert.equal(config.http.adminToken, TOKEN);
  });
});

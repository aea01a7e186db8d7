import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, loadConfig, parseConfig, resolveConfigPath } from '../src/config/load.ts';
import type { Config } from '../src/config/types.ts';

const VALID = `
superoffice:
  url: https://sod.superoffice.com/Cust12345/
  username: \${SO_USERNAME}
  password: \${SO_PASSWORD}
schedules:
  - name: sales
    associates: [12, 14, 19]
    every: 60s
mail:
  smtp: smtp://mailer:\${SMTP_PASSWORD}@smtp.example.com:587
  from: "batchwatch <batchwatch@example.com>"
  to: [ops@example.com]
`;
const ENV = { SO_USERNAME: 'bob', SO_PASSWORD: 'hunter2', SMTP_PASSWORD: 'smtp-secret' };

function configError(yaml: string, env: NodeJS.ProcessEnv = ENV): ConfigError {
  try {
    parseConfig(yaml, env, 'test.yaml');
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the config to be rejected');
}

/** Asserts an issue at exactly `path` whose message matches, and that the error message names it. */
function assertIssue(error: ConfigError, path: string, message: RegExp): void {
  const found = error.issues.find((it) => it.path === path && message.test(it.message));
  assert.ok(found, `no issue at ${path} matching ${message}; got:\n${error.message}`);
  assert.ok(error.message.includes(`${path}: ${found.message}`), error.message);
}

describe('parseConfig: a valid file', () => {
  it('fills defaults, converts durations to ms and interpolates the environment', () => {
    const config = parseConfig(VALID, ENV);
    const expected: Config = {
      superoffice: {
        url: 'https://sod.superoffice.com/Cust12345',
        username: 'bob',
        password: 'hunter2',
        timeout: 30_000,
        associatesPerRequest: 100,
        maxConcurrentRequests: 2,
        timeZone: 'UTC',
        maxResponseBytes: 256 * 1024 * 1024,
      },
      redis: { url: 'redis://127.0.0.1:6379', prefix: 'batchwatch' },
      schedules: [{ name: 'sales', associates: [12, 14, 19], timing: { every: 60_000 } }],
      rules: {
        stallAfter: 900_000,
        queuedTimeout: 600_000,
        firstSeenWindow: 3_600_000,
        unreachableAfter: 3,
        repeatInterval: 14_400_000,
        sendResolved: true,
        tasks: [],
      },
      mail: {
        enabled: true,
        smtp: 'smtp://mailer:smtp-secret@smtp.example.com:587',
        from: 'batchwatch <batchwatch@example.com>',
        to: ['ops@example.com'],
        retryDelay: 30_000,
        retryFor: 86_400_000,
      },
      http: { host: '0.0.0.0', port: 9464 },
      metrics: { maxExportedTasks: 25_000 },
      log: { level: 'info' },
    };
    assert.deepEqual(config, expected);
  });

  it('reads every key when given, cron schedules with tz, task overrides and mailTo', () => {
    const config = parseConfig(
      `
superoffice:
  url: http://crm.local/Cust1
  applicationToken: app
  ticket: \${SO_TICKET}
  timeout: 1m
  associatesPerRequest: 50
  maxConcurrentRequests: 4
  timeZone: Europe/Oslo
redis: { url: "rediss://:pw@redis.local:6380", prefix: "bw-prod" }
schedules:
  - name: sales
    associates: [0, 12]
    cron: "*/5 * * * *"
    tz: Europe/Oslo
    mailTo: sales-ops@example.com
  - name: support-2
    associates: ["21"]
    cron: "0 */10 * * * *"
rules:
  stallAfter: 0s
  queuedTimeout: 30m
  firstSeenWindow: 2h
  unreachableAfter: 5
  repeatInterval: 0s
  sendResolved: false
  tasks:
    - name: "TravelGateway*"
      ignore: true
    - name: "Mailing*"
      stallAfter: 2h
      queuedTimeout: 1h30m
mail:
  enabled: false
http:
  host: 127.0.0.1
  port: \${PORT}
log: { level: debug }
`,
      { SO_TICKET: 'ticket-7', PORT: '9999' },
    );
    assert.deepEqual(config.superoffice, {
      url: 'http://crm.local/Cust1',
      applicationToken: 'app',
      ticket: 'ticket-7',
      timeout: 60_000,
      associatesPerRequest: 50,
      maxConcurrentRequests: 4,
      timeZone: 'Europe/Oslo',
      maxResponseBytes: 256 * 1024 * 1024,
    });
    assert.deepEqual(config.redis, { url: 'rediss://:pw@redis.local:6380', prefix: 'bw-prod' });
    assert.deepEqual(config.schedules, [
      { name: 'sales', associates: [0, 12], timing: { cron: '*/5 * * * *', tz: 'Europe/Oslo' }, mailTo: ['sales-ops@example.com'] },
      { name: 'support-2', associates: [21], timing: { cron: '0 */10 * * * *' } },
    ]);
    assert.deepEqual(config.rules, {
      stallAfter: 0,
      queuedTimeout: 1_800_000,
      firstSeenWindow: 7_200_000,
      unreachableAfter: 5,
      repeatInterval: 0,
      sendResolved: false,
      tasks: [
        { name: 'TravelGateway*', ignore: true },
        { name: 'Mailing*', ignore: false, stallAfter: 7_200_000, queuedTimeout: 5_400_000 },
      ],
    });
    assert.equal(config.mail.enabled, false);
    assert.deepEqual(config.mail.to, []);
    assert.deepEqual(config.http, { host: '127.0.0.1', port: 9999 });
    assert.equal(config.log.level, 'debug');
  });

  it('uses ${NAME:-default} when the variable is unset or empty, and the variable when set', () => {
    const yaml = VALID.replace('${SO_PASSWORD}', '${SO_PASSWORD:-fallback pw}');
    const { SO_PASSWORD: _unused, ...withoutPassword } = ENV;
    assert.equal(parseConfig(yaml, withoutPassword).superoffice.password, 'fallback pw');
    assert.equal(parseConfig(yaml, { ...ENV, SO_PASSWORD: '' }).superoffice.password, 'fallback pw');
    assert.equal(parseConfig(yaml, ENV).superoffice.password, 'hunter2');
  });

  it('inserts secrets verbatim, even when they look like YAML', () => {
    const secret = `a: b # "quoted" 'x' {y} [z] \${NOT_A_VAR} \n- item`;
    assert.equal(parseConfig(VALID, { ...ENV, SO_PASSWORD: secret }).superoffice.password, secret);
  });

  it('writes $${ as a literal ${', () => {
    const yaml = VALID.replace('${SO_PASSWORD}', () => 'pa$${ss}');
    assert.equal(parseConfig(yaml, ENV).superoffice.password, 'pa${ss}');
  });

  it('treats credentials interpolated to empty as absent', () => {
    const yaml = VALID.replace('username: ${SO_USERNAME}', 'ticket: ${SO_TICKET:-}\n  username: ${SO_USERNAME:-}').replace(
      '${SO_PASSWORD}',
      '${SO_PASSWORD:-}',
    );
    const config = parseConfig(yaml, { SO_TICKET: 't', SMTP_PASSWORD: 'x' });
    assert.equal(config.superoffice.ticket, 't');
    assert.equal('username' in config.superoffice, false);
    assert.equal('password' in config.superoffice, false);
  });

  it('lets BATCHWATCH_LOG_LEVEL override log.level, and rejects an unknown level there', () => {
    assert.equal(parseConfig(`${VALID}log: { level: warn }\n`, { ...ENV, BATCHWATCH_LOG_LEVEL: 'trace' }).log.level, 'trace');
    assert.equal(parseConfig(`${VALID}log: { level: warn }\n`, ENV).log.level, 'warn');
    const error = configError(VALID, { ...ENV, BATCHWATCH_LOG_LEVEL: 'chatty' });
    assertIssue(error, 'log.level', /BATCHWATCH_LOG_LEVEL="chatty" is not one of: fatal, error/);
  });

  it('accepts mail.to missing when every schedule has mailTo', () => {
    const yaml = VALID.replace('  to: [ops@example.com]\n', '').replace('every: 60s', 'every: 60s\n    mailTo: [a@example.com]');
    assert.deepEqual(parseConfig(yaml, ENV).schedules[0]?.mailTo, ['a@example.com']);
  });
});

describe('parseConfig: every mistake names its key path', () => {
  it('unknown keys, at the top level and nested, with a suggestion when close', () => {
    const error = configError(
      `${VALID.replace('  username:', '  usernme:').replace('every: 60s', 'every: 60s\n    mail_to: [x@example.com]')}` +
        `rules:\n  tasks:\n    - name: "x*"\n      ignor: true\nschedule: []\nfrobnicate: 1\n`,
    );
    assertIssue(error, 'superoffice.usernme', /unknown key \(did you mean "username"\?\)/);
    assertIssue(error, 'schedules[0].mail_to', /did you mean "mailTo"/);
    assertIssue(error, 'rules.tasks[0].ignor', /did you mean "ignore"/);
    assertIssue(error, 'schedule', /did you mean "schedules"/);
    assertIssue(error, 'frobnicate', /unknown key \(known keys here: superoffice, redis, schedules/);
  });

  it('wrong types', () => {
    const error = configError(
      VALID.replace('url: https://sod.superoffice.com/Cust12345/', 'url: [a, b]')
        .replace('associates: [12, 14, 19]', 'associates: 12')
        .concat('http:\n  port: high\nrules:\n  sendResolved: maybe\n'),
    );
    assertIssue(error, 'superoffice.url', /expected a string, got a list/);
    assertIssue(error, 'schedules[0].associates', /expected a list, got number 12/);
    assertIssue(error, 'http.port', /expected a number, got a string/);
    assertIssue(error, 'rules.sendResolved', /expected true or false/);
  });

  it('a bare number where a duration is expected', () => {
    const error = configError(`${VALID}rules:\n  stallAfter: 15\n`);
    assertIssue(error, 'rules.stallAfter', /durations need a unit, e.g. 15m/);
  });

  it('a bad duration unit', () => {
    const error = configError(VALID.replace('every: 60s', 'every: 60 secs'));
    assertIssue(error, 'schedules[0].every', /is not a duration/);
  });

  it('an interval under one second', () => {
    const error = configError(VALID.replace('every: 60s', 'every: 500ms'));
    assertIssue(error, 'schedules[0].every', /must be at least 1s/);
  });

  it('duplicate schedule names', () => {
    const error = configError(VALID.replace('mail:', '  - name: sales\n    associates: [7]\n    every: 5m\nmail:'));
    assertIssue(error, 'schedules[1].name', /"sales" is already the name of schedules\[0\]/);
  });

  it('a bad schedule name', () => {
    const error = configError(VALID.replace('name: sales', 'name: Sales Team'));
    assertIssue(error, 'schedules[0].name', /lower-case letters, digits and "-"/);
  });

  it('an associate in two schedules, naming both', () => {
    const error = configError(VALID.replace('mail:', '  - name: support\n    associates: [7, 14]\n    every: 5m\nmail:'));
    assertIssue(
      error,
      'schedules[1].associates[1]',
      /associate 14 is in both schedule "sales" \(schedules\[0\]\) and schedule "support" \(schedules\[1\]\)/,
    );
  });

  it('an empty or negative associate list entry', () => {
    const error = configError(
      VALID.replace('associates: [12, 14, 19]', 'associates: []').replace(
        'mail:',
        '  - name: b\n    associates: [-3]\n    every: 1m\nmail:',
      ),
    );
    assertIssue(error, 'schedules[0].associates', /at least one associate/);
    assertIssue(error, 'schedules[1].associates[0]', /must be at least 0/);
  });

  it('neither ticket nor username/password; username without password', () => {
    const neither = configError(VALID.replace('  username: ${SO_USERNAME}\n  password: ${SO_PASSWORD}\n', ''));
    assertIssue(neither, 'superoffice', /needs either ticket, or username and password/);
    const noPassword = configError(VALID.replace('  password: ${SO_PASSWORD}\n', ''));
    assertIssue(noPassword, 'superoffice.password', /is required with username/);
  });

  it('a missing environment variable, naming it and the key, without echoing other secrets', () => {
    const { SO_PASSWORD: _unused, ...env } = ENV;
    const error = configError(VALID, env);
    assertIssue(error, 'superoffice.password', /environment variable SO_PASSWORD is not set/);
    assert.equal(error.issues.length, 1, error.message);
    assert.doesNotMatch(error.message, /smtp-secret|bob/);
  });

  it('a malformed reference', () => {
    const error = configError(VALID.replace('${SO_PASSWORD}', '${SO PASSWORD}').replace('${SO_USERNAME}', '${SO_USERNAME'));
    assertIssue(error, 'superoffice.password', /not a variable reference/);
    assertIssue(error, 'superoffice.username', /unterminated \$\{/);
  });

  it('a bad cron expression', () => {
    const wrongRange = configError(VALID.replace('every: 60s', 'cron: "61 * * * *"'));
    assertIssue(wrongRange, 'schedules[0].cron', /not a valid cron expression/);
    const wrongCount = configError(VALID.replace('every: 60s', 'cron: "* * *"'));
    assertIssue(wrongCount, 'schedules[0].cron', /5 fields .* or 6/);
  });

  it('every and cron both, neither, and tz without cron', () => {
    const both = configError(VALID.replace('every: 60s', 'every: 60s\n    cron: "*/5 * * * *"'));
    assertIssue(both, 'schedules[0]', /either every or cron, not both/);
    const neither = configError(VALID.replace('    every: 60s\n', ''));
    assertIssue(neither, 'schedules[0]', /needs every .* or cron/);
    const tz = configError(VALID.replace('every: 60s', 'every: 60s\n    tz: UTC'));
    assertIssue(tz, 'schedules[0].tz', /only to cron schedules/);
  });

  it('a bad time zone', () => {
    const error = configError(
      VALID.replace('every: 60s', 'cron: "0 * * * *"\n    tz: Mars/Olympus').replace(
        'password: ${SO_PASSWORD}',
        'password: x\n  timeZone: Europe/Atlantis',
      ),
    );
    assertIssue(error, 'superoffice.timeZone', /"Europe\/Atlantis" is not an IANA time zone/);
    assertIssue(error, 'schedules[0].tz', /"Mars\/Olympus" is not an IANA time zone/);
  });

  it('a bad SMTP URL, without echoing it (it may hold a password)', () => {
    const error = configError(VALID.replace('smtp://mailer:', 'http://mailer:'));
    assertIssue(error, 'mail.smtp', /must be an smtp:\/\/ or smtps:\/\/ URL/);
    assert.doesNotMatch(error.message, /smtp-secret/);
  });

  it('mail settings required while mail is enabled', () => {
    const error = configError(VALID.replace(/mail:[\s\S]*$/, 'mail:\n  retryDelay: 1m\n'));
    assertIssue(error, 'mail.smtp', /is required while mail.enabled is true/);
    assertIssue(error, 'mail.from', /is required while mail.enabled is true/);
    assertIssue(error, 'mail.to', /unless every schedule has mailTo/);
  });

  it('bad addresses, URL, ports, counts and prefix', () => {
    const error = configError(
      VALID.replace('to: [ops@example.com]', 'to: [ops]')
        .replace('from: "batchwatch <batchwatch@example.com>"', 'from: "batchwatch"')
        .replace('https://sod.superoffice.com/Cust12345/', 'sod.superoffice.com')
        .replace('every: 60s', 'every: 60s\n    mailTo: ["not an address"]')
        .concat('http: { port: 70000 }\nrules: { unreachableAfter: 0 }\nredis: { prefix: "bw {x}" }\n'),
    );
    assertIssue(error, 'mail.to[0]', /must be an email address/);
    assertIssue(error, 'mail.from', /must be an email address/);
    assertIssue(error, 'superoffice.url', /must be an http:\/\/ or https:\/\/ URL/);
    assertIssue(error, 'schedules[0].mailTo[0]', /must be an email address/);
    assertIssue(error, 'http.port', /must be at most 65535/);
    assertIssue(error, 'rules.unreachableAfter', /must be at least 1/);
    assertIssue(error, 'redis.prefix', /no|not contain spaces or braces/);
  });

  it('no schedules at all', () => {
    assertIssue(configError(VALID.replace(/schedules:[\s\S]*?mail:/, 'schedules: []\nmail:')), 'schedules', /at least one schedule/);
    assertIssue(configError(VALID.replace(/schedules:[\s\S]*?mail:/, 'mail:')), 'schedules', /is required/);
  });

  it('a YAML syntax error, with its line', () => {
    const error = configError('superoffice:\n  url: http://x\nschedules: [\n  - a\nmail:\n');
    assert.equal(error.issues.length >= 1, true);
    assert.match(error.message, /^test\.yaml: invalid config/);
    assert.match(error.message, /YAML syntax error at line \d+, column \d+/);
    const duplicate = configError('superoffice:\n  url: http://x\n  url: http://y\n');
    assert.match(duplicate.message, /YAML syntax error at line 3, column 3: Map keys must be unique/);
  });

  it('an empty file or a file that is not a mapping', () => {
    assert.match(configError('').message, /the config file is empty/);
    assert.match(configError('- a\n- b\n').message, /expected a mapping of sections/);
  });

  it('reports several mistakes at once, in file order, with line numbers', () => {
    const error = configError(
      `
superoffice:
  url: https://sod.superoffice.com/Cust12345
  usernme: bob
  timeout: 30
schedules:
  - name: sales
    associates: [1, 2]
    every: 60s
    cron: "*/5 * * * *"
  - name: sales
    associates: [2]
    every: 1m
rules:
  stallAfter: 15
mail:
  smtp: http://example.com
  from: batchwatch@example.com
  to: [ops@example.com]
  password: \${MAIL_PASSWORD}
`,
      {},
    );
    const paths = error.issues.map((it) => it.path);
    assert.deepEqual(paths, [
      'superoffice',
      'superoffice.usernme',
      'superoffice.timeout',
      'schedules[0]',
      'schedules[1].name',
      'schedules[1].associates[0]',
      'rules.stallAfter',
      'mail.smtp',
      'mail.password',
    ]);
    assert.deepEqual(
      error.issues.map((it) => it.line),
      [2, 4, 5, 7, 11, 12, 15, 17, 20],
    );
    assert.match(error.message, /9 problems/);
    assert.match(error.message, /\n {2}superoffice\.timeout: durations need a unit, e\.g\. 15m .*\(line 5\)/);
  });
});

describe('config files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'batchwatch-config-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('resolveConfigPath: --config, then $BATCHWATCH_CONFIG, then config/batchwatch.yaml', () => {
    assert.equal(resolveConfigPath('my.yaml', { BATCHWATCH_CONFIG: '/etc/bw.yaml' }), resolve('my.yaml'));
    assert.equal(resolveConfigPath(undefined, { BATCHWATCH_CONFIG: '/etc/bw.yaml' }), '/etc/bw.yaml');
    assert.equal(resolveConfigPath(undefined, {}), resolve('config/batchwatch.yaml'));
    assert.equal(resolveConfigPath(undefined, { BATCHWATCH_CONFIG: '' }), resolve('config/batchwatch.yaml'));
  });

  it('loadConfig reads a file and names it in errors', () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, VALID.replace('every: 60s', 'every: 60'));
    assert.throws(
      () => loadConfig(file, ENV),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.message.startsWith(`${file}: invalid config, 1 problem:`) &&
        error.issues[0]?.path === 'schedules[0].every',
    );
    const good = join(dir, 'good.yaml');
    writeFileSync(good, VALID);
    assert.equal(loadConfig(good, ENV).schedules[0]?.name, 'sales');
  });

  it('loadConfig reports a missing file as a ConfigError', () => {
    assert.throws(
      () => loadConfig(join(dir, 'nope.yaml'), ENV),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, /nope\.yaml: invalid config, 1 problem:\n {2}file not found/);
        return true;
      },
    );
  });

  it('config/batchwatch.yaml loads with an empty environment and points at the local simulator', () => {
    const config = loadConfig(resolve('config/batchwatch.yaml'), {});
    assert.equal(config.superoffice.url, 'http://127.0.0.1:8085/Cust1');
    assert.equal(config.superoffice.username, 'demo');
    assert.equal(config.superoffice.password, 'demo');
    assert.equal(config.mail.smtp, 'smtp://127.0.0.1:2525');
    assert.equal(config.mail.enabled, true);
    assert.equal(config.schedules.length, 1);
    assert.equal(loadConfig(resolve('config/batchwatch.yaml'), { SO_PASSWORD: 's3' }).superoffice.password, 's3');
  });

  it('config/batchwatch.example.yaml loads with its secrets in the environment', () => {
    const example = resolve('config/batchwatch.example.yaml');
    const config = loadConfig(example, { SO_USERNAME: 'u', SO_PASSWORD: 'p', SMTP_PASSWORD: 's' });
    assert.equal(config.superoffice.url, 'https://sod.superoffice.com/Cust12345');
    assert.deepEqual(
      config.schedules.map((s) => s.timing),
      [{ every: 60_000 }, { cron: '*/5 * * * *', tz: 'Europe/Oslo' }],
    );
    assert.deepEqual(config.rules.tasks, [
      { name: 'TravelGateway*', ignore: true },
      { name: 'Mailing*', ignore: false, stallAfter: 7_200_000, queuedTimeout: 1_800_000 },
    ]);
    assert.equal(config.mail.smtp, 'smtp://batchwatch:s@smtp.example.com:587');
    // Without credentials and the SMTP password it names both.
    assert.throws(
      () => loadConfig(example, {}),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.deepEqual(
          error.issues.map((it) => it.path),
          ['superoffice', 'mail.smtp'],
        );
        return true;
      },
    );
  });
});

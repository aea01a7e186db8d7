// Configs that used to validate and then break at run time, YAML that could exhaust the loader, and values from the environment in errors.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, loadConfig, MAX_CONFIG_BYTES, parseConfig } from '../src/config/load.ts';
import { runCli } from './helpers/cli.ts';

const BASE = `
superoffice:
  url: https://sod.superoffice.com/Cust12345
  ticket: \${SO_TICKET}
  timeout: 30s
schedules:
  - name: sales
    associates: [12]
    every: 60s
mail:
  smtp: smtp://smtp.example.com:587
  from: "batchwatch <batchwatch@example.com>"
  to: [ops@example.com]
`;
const ENV = { SO_TICKET: '7T:ticket-value-0001' };

function rejected(yaml: string, env: NodeJS.ProcessEnv = ENV): ConfigError {
  try {
    parseConfig(yaml, env, 'test.yaml');
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the config to be rejected');
}

function assertIssue(error: ConfigError, path: string, message: RegExp): void {
  assert.ok(
    error.issues.some((it) => it.path === path && message.test(it.message)),
    `no issue at ${path} matching ${message}; got:\n${error.message}`,
  );
}

describe('durations that set a timer are bounded by what a timer can wait', () => {
  const cases: [key: string, edit: (yaml: string) => string, message: RegExp][] = [
    ['superoffice.timeout', (y) => y.replace('timeout: 30s', 'timeout: 25d'), /must be at most 24d \(the longest wait a timer can take\)/],
    ['superoffice.timeout', (y) => y.replace('timeout: 30s', 'timeout: 99999999999999999999d'), /must be at most 24d/],
    ['schedules[0].every', (y) => y.replace('every: 60s', 'every: 30d'), /must be at most 24d/],
    ['mail.retryDelay', (y) => `${y}  retryDelay: 2h\n`, /must be at most 1h/],
    ['mail.retryFor', (y) => `${y}  retryFor: 10000d\n`, /must be at most 3650d/],
    ['rules.stallAfter', (y) => `${y}rules: { stallAfter: 100000000000000000000000d }\n`, /must be at most 3650d/],
  ];
  for (const [key, edit, message] of cases) {
    it(`${key}: ${edit(BASE).match(new RegExp(`${key.split('.').pop()!.replace(/\[.*$/, '')}: ?(\\S+)`))?.[1] ?? ''} is an error naming the key`, () => {
      assertIssue(rejected(edit(BASE)), key, message);
    });
  }

  it('24d itself is accepted for superoffice.timeout and every', () => {
    const config = parseConfig(BASE.replace('timeout: 30s', 'timeout: 24d').replace('every: 60s', 'every: 24d'), ENV);
    assert.equal(config.superoffice.timeout, 24 * 86_400_000);
    assert.ok(config.superoffice.timeout <= 2 ** 31 - 1);
  });
});

describe('YAML that would exhaust the loader', () => {
  const bomb = (() => {
    const lines = ['  a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'];
    for (let i = 1; i < 10; i++)
      lines.push(
        `  a${i}: &a${i} [${Array(9)
          .fill(`*a${i - 1}`)
          .join(', ')}]`,
      );
    return `lols:\n${lines.join('\n')}\n${BASE.replace('timeout: 30s', 'timeout: 30s\n  timeZone: *a9')}`;
  })();

  it('an alias bomb (billion laughs) is a config error naming the key that uses it', () => {
    const error = rejected(bomb);
    assert.equal(error.issues.length, 1, error.message);
    assertIssue(error, 'superoffice.timeZone', /YAML alias \*a9 expands to over a million values .*alias bomb/);
    assert.match(error.message, /\(line 17\)/);
  });

  it('an alias without its anchor names the key', () => {
    assertIssue(
      rejected(BASE.replace('timeout: 30s', 'timeout: *nowhere')),
      'superoffice.timeout',
      /alias \*nowhere has no anchor &nowhere/,
    );
  });

  it('plain anchors may still be reused', () => {
    const yaml = BASE.replace('  to: [ops@example.com]', '  to: *ops').replace(
      'every: 60s',
      'every: 60s\n    mailTo: &ops [ops@example.com]',
    );
    const config = parseConfig(yaml, ENV);
    assert.deepEqual(config.schedules[0]?.mailTo, ['ops@example.com']);
    assert.deepEqual(config.mail.to, ['ops@example.com']);
  });

  it('nesting deeper than the stack is a config error, not a crash', () => {
    let nested = '';
    for (let i = 0; i < 2000; i++) nested += `${' '.repeat(2 + i)}k${i}:\n`;
    // 2000 levels (~2 MB of indentation, more than a file may hold, so parseConfig is called directly): the stack overflows.
    const error = rejected(BASE.replace('timeout: 30s\n', `timeout: 30s\n  deep:\n${nested}`));
    assert.match(error.message, /nests too deeply|YAML syntax error/);
  });

  describe('files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'batchwatch-config-hardening-'));
    after(() => rmSync(dir, { recursive: true, force: true }));

    it(`a file larger than ${MAX_CONFIG_BYTES / 1024} KiB is refused without reading it whole`, () => {
      const file = join(dir, 'huge.yaml');
      writeFileSync(file, `${BASE}#${'x'.repeat(MAX_CONFIG_BYTES)}\n`);
      assert.throws(
        () => loadConfig(file, ENV),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError);
          assert.match(error.message, /is larger than 1024 KiB; a config file is a few kilobytes/);
          return true;
        },
      );
      assert.throws(() => loadConfig('/dev/zero', ENV), /is larger than 1024 KiB/);
    });

    it('a CA, key or certificate file that is a FIFO or a device is refused at its key (exit 2), never read', {
      timeout: 120_000,
    }, async () => {
      const fifo = join(dir, 'pem.fifo');
      execFileSync('mkfifo', [fifo]);
      const keyFile = join(dir, 'key.pem');
      writeFileSync(
        keyFile,
        generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      );
      const places: [key: string, yaml: (file: string) => string][] = [
        ['mail.tls.ca', (file) => `${BASE}  tls:\n    ca: ${file}\n`],
        ['superoffice.tls.ca', (file) => BASE.replace('  timeout: 30s\n', `  timeout: 30s\n  tls:\n    ca: ${file}\n`)],
        ['redis.tls.ca', (file) => `${BASE}redis:\n  url: rediss://127.0.0.1:6380\n  tls:\n    ca: ${file}\n`],
        [
          'superoffice.systemUser.privateKeyFile',
          (file) =>
            BASE.replace(
              '  ticket: ${SO_TICKET}\n',
              `  applicationToken: app-secret-1234\n  systemUser:\n    token: SYSTEM-TOKEN-1\n    privateKeyFile: ${file}\n`,
            ),
        ],
        [
          'superoffice.systemUser.jwtCertificate',
          (file) =>
            BASE.replace(
              '  ticket: ${SO_TICKET}\n',
              `  applicationToken: app-secret-1234\n  systemUser:\n    token: SYSTEM-TOKEN-1\n    privateKeyFile: ${keyFile}\n    jwtCertificate: ${file}\n`,
            ),
        ],
      ];
      const runs = places.flatMap(([key, yaml]) =>
        [fifo, '/dev/zero'].map(async (file) => {
          const config = join(dir, `${key}-${file === fifo ? 'fifo' : 'zero'}.yaml`);
          writeFileSync(config, yaml(file));
          return { key, file, result: await runCli(['check', '--config', config], ENV) };
        }),
      );
      for (const { key, file, result } of await Promise.all(runs)) {
        assert.equal(result.code, 2, `${key} = ${file}: ${result.stdout}${result.stderr}`);
        assert.match(
          result.stdout,
          new RegExp(`${key.replace(/\./g, '\\.')}: .*${file.replace(/[./]/g, '\\$&')}.*is not a regular file`),
          `${key} = ${file}`,
        );
      }
    });

    it('run and check exit 2 on an alias bomb, naming the key', async () => {
      const file = join(dir, 'bomb.yaml');
      writeFileSync(file, bomb);
      const [run, check] = await Promise.all([runCli(['run', '--config', file], ENV), runCli(['check', '--config', file], ENV)]);
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, /superoffice\.timeZone: YAML alias \*a9 expands/);
      assert.equal(check.code, 2, check.stdout);
      assert.match(check.stdout, /superoffice\.timeZone: YAML alias \*a9 expands/);
    });

    it('run exits 2 on superoffice.timeout above the timer limit, naming the key', async () => {
      const file = join(dir, 'timeout.yaml');
      writeFileSync(file, BASE.replace('timeout: 30s', 'timeout: 30d'));
      const run = await runCli(['run', '--config', file], ENV);
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, /superoffice\.timeout: must be at most 24d/);
    });
  });
});

describe('values that validated and then broke', () => {
  it('a line break in a mail address (a header of its own) is refused in from, to and mailTo', () => {
    const yaml = BASE.replace('"batchwatch <batchwatch@example.com>"', '"Bad\\r\\nBcc: evil@example.net <batchwatch@example.com>"')
      .replace('to: [ops@example.com]', 'to: ["ops@example.com\\nBcc: evil@example.net"]')
      .replace('every: 60s', 'every: 60s\n    mailTo: ["Ops\\r <ops@example.com>"]');
    const error = rejected(yaml);
    assertIssue(error, 'mail.from', /must not contain line breaks/);
    assertIssue(error, 'mail.to[0]', /must not contain line breaks/);
    assertIssue(error, 'schedules[0].mailTo[0]', /must not contain line breaks/);
  });

  it('http.host must be an address or a host name; [::1] is read as ::1', () => {
    assertIssue(rejected(`${BASE}http: { host: "bad host" }\n`), 'http.host', /must be an IP address .* or a host name/);
    assertIssue(rejected(`${BASE}http: { host: "http://0.0.0.0" }\n`), 'http.host', /must be an IP address/);
    assert.equal(parseConfig(`${BASE}http: { host: "[::1]" }\n`, ENV).http.host, '::1');
    assert.equal(parseConfig(`${BASE}http: { host: "metrics.internal" }\n`, ENV).http.host, 'metrics.internal');
  });

  it('associate ids are 32-bit (a larger one would fault every call)', () => {
    assertIssue(rejected(BASE.replace('[12]', '[2147483648]')), 'schedules[0].associates[0]', /must be at most 2147483647/);
    const huge = rejected(BASE.replace('[12]', '[99999999999999999999]'));
    assert.equal(huge.issues.length, 1, huge.message);
  });

  it('URLs that paths are appended to have no query or fragment, and no URL has control characters', () => {
    assertIssue(rejected(BASE.replace('/Cust12345', '/Cust12345?x=1')), 'superoffice.url', /must not have a query \(\?\) or fragment/);
    assertIssue(rejected(BASE.replace('/Cust12345', '/Cust12345#top')), 'superoffice.url', /must not have a query/);
    assertIssue(
      rejected(BASE.replace('timeout: 30s', 'timeout: 30s\n  tenantStatusUrl: https://online.superoffice.com/api/state?x')),
      'superoffice.tenantStatusUrl',
      /must not have a query/,
    );
    assertIssue(
      rejected(BASE.replace('url: https://sod.superoffice.com/Cust12345', 'url: "https://sod.superoffice.com/Cust\\r\\n12345"')),
      'superoffice.url',
      /control characters/,
    );
    assertIssue(
      rejected(BASE.replace('sod.superoffice.com/Cust12345', 'sod.superoffice.com:0/Cust12345')),
      'superoffice.url',
      /has port 0/,
    );
  });
});

describe('values from the environment are never quoted in config errors', () => {
  const SECRET = 'Sup3r-Secret-Value-42';

  /** The error names where the value came from and contains the value in no case or form. */
  function assertHidden(error: ConfigError, path: string, name: string): void {
    const found = error.issues.find((it) => it.path === path);
    assert.ok(found, `no issue at ${path}:\n${error.message}`);
    assert.match(found.message, new RegExp(`\\(value from \\$\\{${name}\\}\\)`), found.message);
    for (const form of [SECRET, SECRET.toLowerCase(), SECRET.slice(0, 12), 'Sup3r']) {
      assert.ok(!error.message.toLowerCase().includes(form.toLowerCase()), `${form} in:\n${error.message}`);
    }
  }

  const cases: [path: string, edit: (yaml: string) => string][] = [
    ['superoffice.timeZone', (y) => y.replace('timeout: 30s', 'timeout: 30s\n  timeZone: ${LEAK}')],
    ['superoffice.timeout', (y) => y.replace('timeout: 30s', 'timeout: ${LEAK}')],
    ['superoffice.maxResponseBytes', (y) => y.replace('timeout: 30s', 'timeout: 30s\n  maxResponseBytes: ${LEAK}')],
    ['schedules[0].every', (y) => y.replace('every: 60s', 'every: "${LEAK}"')],
    ['schedules[0].cron', (y) => y.replace('every: 60s', 'cron: "${LEAK} * * * *"')],
    ['schedules[0].associates', (y) => y.replace('[12]', '${LEAK}')],
    ['mail.smtp', (y) => y.replace('smtp://smtp.example.com:587', 'smtp://smtp.example.com:587?${LEAK}=1')],
    ['mail.smtp', (y) => y.replace('smtp://smtp.example.com:587', 'smtp://smtp.example.com:587?requireTLS=${LEAK}')],
    [
      'superoffice.systemUser.privateKeyFile',
      (y) =>
        y.replace(
          'ticket: ${SO_TICKET}',
          'applicationToken: app-token-1\n  systemUser:\n    token: tok\n    privateKeyFile: /nowhere/${LEAK}.pem',
        ),
    ],
  ];
  for (const [path, edit] of cases) {
    it(`${path}`, () => assertHidden(rejected(edit(BASE), { ...ENV, LEAK: SECRET }), path, 'LEAK'));
  }

  it('a schedule name from the environment is hidden where another issue quotes it', () => {
    const yaml = BASE.replace('  - name: sales', '  - name: ${LEAK}').replace(
      'every: 60s',
      'every: 60s\n  - name: other\n    associates: [12]\n    every: 60s',
    );
    const error = rejected(yaml, { ...ENV, LEAK: 'team-with-secret-name' });
    assert.ok(!error.message.includes('team-with-secret-name'), error.message);
    assert.match(error.message, /schedule \(value from \$\{LEAK\}\) \(schedules\[0\]\)/);
  });

  it('a value written in the file is still quoted', () => {
    const error = rejected(BASE.replace('timeout: 30s', 'timeout: 30s\n  timeZone: Europe/Atlantis'));
    assertIssue(error, 'superoffice.timeZone', /^"Europe\/Atlantis" is not an IANA time zone/);
  });

  it('a quoted value shows control characters as ? and is cut when long', () => {
    const error = rejected(BASE.replace('timeout: 30s', `timeout: 30s\n  timeZone: "Bad\\u001b[31mZone${'x'.repeat(200)}"`));
    const message = error.issues.find((it) => it.path === 'superoffice.timeZone')?.message ?? '';
    assert.match(message, /^"Bad\?\[31mZonex+…" is not an IANA time zone/);
    assert.ok(message.length < 160, message);
  });
});

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, parseConfig } from '../src/config/load.ts';
import { runCli } from './helpers/cli.ts';

/** Config keys of the SuperOffice side: associates: all, includeSystemTasks, maxResponseBytes, tls.ca. */

const BASE = `
superoffice:
  url: https://sod.superoffice.com/Cust12345/
  ticket: \${SO_TICKET}
schedules:
  - name: sales
    associates: [12, 14]
    every: 60s
mail:
  enabled: false
`;
const ENV = { SO_TICKET: '7T:ticket-for-config-tests==' };

/** BASE with more schedules after `sales`. */
function withSchedules(extra: string): string {
  return BASE.replace('mail:\n', `${extra}mail:\n`);
}

function configError(yaml: string): ConfigError {
  try {
    parseConfig(yaml, ENV, 'test.yaml');
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

const dir = mkdtempSync(join(tmpdir(), 'bw-config-so-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('schedules[].associates: all', () => {
  it('reads all and includeSystemTasks, and tells the all schedule which associates other schedules list', () => {
    const config = parseConfig(
      withSchedules(
        '  - name: everything\n    associates: all\n    includeSystemTasks: true\n    every: 2m\n  - name: support\n    associates: [7, 3]\n    every: 1m\n',
      ),
      ENV,
    );
    assert.deepEqual(config.schedules[1], {
      name: 'everything',
      associates: 'all',
      includeSystemTasks: true,
      listedElsewhere: [3, 7, 12, 14],
      timing: { every: 120_000 },
    });
    assert.deepEqual(config.schedules[0]?.associates, [12, 14]);
    const plain = parseConfig(withSchedules('  - name: rest\n    associates: ALL\n    every: 1m\n'), ENV).schedules[1];
    assert.ok(plain?.associates === 'all' && plain.includeSystemTasks === false, 'includeSystemTasks defaults to false');
  });

  it('two all schedules: the second is named', () => {
    const error = configError(
      withSchedules('  - name: a\n    associates: all\n    every: 1m\n  - name: b\n    associates: all\n    every: 1m\n'),
    );
    assertIssue(
      error,
      'schedules[2].associates',
      /schedule "a" \(schedules\[1\]\) already watches all associates; at most one schedule may say "all"/,
    );
    assert.equal(error.issues.filter((it) => it.path.endsWith('.associates')).length, 1);
  });

  it('includeSystemTasks with a list of associates', () => {
    const error = configError(BASE.replace('every: 60s', 'every: 60s\n    includeSystemTasks: true'));
    assertIssue(error, 'schedules[0].includeSystemTasks', /applies only to associates: all .*list associate 0/);
  });

  it('includeSystemTasks on all while another schedule lists associate 0 (the system tasks would be watched twice)', () => {
    const error = configError(
      BASE.replace('[12, 14]', '[12, 0]').replace(
        'mail:\n',
        '  - name: everything\n    associates: all\n    includeSystemTasks: true\n    every: 1m\nmail:\n',
      ),
    );
    assertIssue(
      error,
      'schedules[1].includeSystemTasks',
      /already watched by schedule "sales" \(schedules\[0\]\), which lists associate 0/,
    );
    // Without includeSystemTasks that is fine: associate 0 belongs to sales, and `all` skips it.
    const config = parseConfig(
      BASE.replace('[12, 14]', '[12, 0]').replace('mail:\n', '  - name: everything\n    associates: all\n    every: 1m\nmail:\n'),
      ENV,
    );
    const all = config.schedules[1];
    assert.ok(all?.associates === 'all');
    assert.deepEqual(all.listedElsewhere, [0, 12]);
  });

  it('a word other than all, a bad includeSystemTasks', () => {
    const error = configError(withSchedules('  - name: rest\n    associates: everyone\n    includeSystemTasks: perhaps\n    every: 1m\n'));
    assertIssue(error, 'schedules[1].associates', /must be a list of associate ids or "all", got "everyone"/);
    assertIssue(error, 'schedules[1].includeSystemTasks', /expected true or false/);
  });

  it('a bad config exits 2 naming the key (batchwatch check)', async () => {
    const file = join(dir, 'two-all.yaml');
    writeFileSync(
      file,
      withSchedules('  - name: a\n    associates: all\n    every: 1m\n  - name: b\n    associates: all\n    every: 1m\n'),
    );
    const result = await runCli(['check', '--config', file], ENV);
    assert.equal(result.code, 2, result.stdout + result.stderr);
    assert.match(result.stdout + result.stderr, /schedules\[2\]\.associates: .*already watches all associates/);
  });
});

describe('superoffice.maxResponseBytes', () => {
  it('defaults to 256 MiB and takes bytes or a size with a unit', () => {
    assert.equal(parseConfig(BASE, ENV).superoffice.maxResponseBytes, 256 * 1024 * 1024);
    const set = (value: string) =>
      parseConfig(BASE.replace('  ticket:', `  maxResponseBytes: ${value}\n  ticket:`), ENV).superoffice.maxResponseBytes;
    assert.equal(set('1000000'), 1_000_000);
    assert.equal(set('64MiB'), 64 * 1024 * 1024);
    assert.equal(set('"500 MB"'), 500_000_000);
    assert.equal(set('1gib'), 1024 ** 3);
  });

  it('bad values name the key', () => {
    const bad = (value: string) => configError(BASE.replace('  ticket:', `  maxResponseBytes: ${value}\n  ticket:`));
    assertIssue(bad('lots'), 'superoffice.maxResponseBytes', /"lots" is not a size/);
    assertIssue(bad('12XB'), 'superoffice.maxResponseBytes', /is not a size/);
    assertIssue(bad('100'), 'superoffice.maxResponseBytes', /must be at least 65536 bytes/);
    assertIssue(bad('-5'), 'superoffice.maxResponseBytes', /whole number of bytes|not a size/);
    assertIssue(bad('[1]'), 'superoffice.maxResponseBytes', /expected a size such as 256MiB, got a list/);
  });
});

describe('superoffice.tls.ca', () => {
  it('takes a readable PEM certificate file', () => {
    const ca = join(dir, 'ca.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=batchwatch test CA',
        '-keyout',
        join(dir, 'ca.key'),
        '-out',
        ca,
      ],
      { stdio: 'ignore' },
    );
    const config = parseConfig(BASE.replace('  ticket:', `  tls:\n    ca: ${ca}\n  ticket:`), ENV);
    assert.deepEqual(config.superoffice.tls, { ca });
  });

  it('a missing file, a file without a certificate, an unknown key: each named', () => {
    const notPem = join(dir, 'not-a-cert.pem');
    writeFileSync(notPem, 'hello\n');
    const bad = (tls: string) => configError(BASE.replace('  ticket:', `  tls:\n${tls}  ticket:`));
    assertIssue(
      bad(`    ca: ${join(dir, 'missing.pem')}\n`),
      'superoffice.tls.ca',
      /cannot read the CA file .*missing\.pem \(no such file\)/,
    );
    assertIssue(bad(`    ca: ${notPem}\n`), 'superoffice.tls.ca', /is not a PEM certificate file/);
    const garbled = join(dir, 'garbled.pem');
    writeFileSync(garbled, '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n');
    assertIssue(bad(`    ca: ${garbled}\n`), 'superoffice.tls.ca', /cannot be read/);
    assertIssue(bad(`    cafile: x\n`), 'superoffice.tls.cafile', /unknown key \(known keys here: ca\)/);
  });
});

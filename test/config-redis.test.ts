import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError, parseConfig } from '../src/config/load.ts';
import { configSecrets, redactedConfig } from '../src/redact/config.ts';
import { parseRedisUrl } from '../src/redis/url.ts';
import { makeTestCertificates, type TestCertificates } from './helpers/certificates.ts';
import { runCli } from './helpers/cli.ts';

function yaml(redis: string): string {
  return `superoffice: { url: "https://so.example.com/Cust1", username: bob, password: secret-so }
redis: ${redis}
schedules: [{ name: sales, associates: [1], every: 60s }]
mail: { enabled: false }
`;
}

function issuesOf(redis: string, env: NodeJS.ProcessEnv = {}): ConfigError {
  try {
    parseConfig(yaml(redis), env, 'test.yaml');
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail(`expected redis: ${redis} to be rejected`);
}

function assertIssue(redis: string, path: string, message: RegExp, env: NodeJS.ProcessEnv = {}): ConfigError {
  const error = issuesOf(redis, env);
  const found = error.issues.find((it) => it.path === path && message.test(it.message));
  assert.ok(found, `redis: ${redis}\nno issue at ${path} matching ${message}; got:\n${error.message}`);
  return error;
}

describe('redis.url is validated at load', () => {
  it('accepts host, port, user, password, db and rediss://', () => {
    assert.deepEqual(parseRedisUrl('rediss://user:p%40ss@redis.example.com:6380/3'), {
      ok: true,
      parts: { tls: true, host: 'redis.example.com', port: 6380, username: 'user', password: 'p@ss', db: 3 },
    });
    assert.deepEqual(parseRedisUrl('redis://[::1]'), { ok: true, parts: { tls: false, host: '::1', port: 6379, db: 0 } });
    assert.equal(parseConfig(yaml('{ url: "redis://:pw@127.0.0.1:6379/0" }'), {}).redis.url, 'redis://:pw@127.0.0.1:6379/0');
  });

  it('defaults to redis://127.0.0.1:6379 and treats an empty value as absent', () => {
    assert.deepEqual(parseConfig(yaml('{}'), {}).redis, { url: 'redis://127.0.0.1:6379', prefix: 'batchwatch' });
    assert.deepEqual(parseConfig(yaml('{ url: "${REDIS_URL:-}" }'), {}).redis, { url: 'redis://127.0.0.1:6379', prefix: 'batchwatch' });
  });

  it('a non-numeric db, bad percent-encoding, a port out of range, a query or another scheme: exit-2 errors naming redis.url, never the password', () => {
    const cases: [string, RegExp][] = [
      ['redis://:hunter2-secret@127.0.0.1:6379/abc', /path must be a database number/],
      ['redis://127.0.0.1:6379/0/extra', /path must be a database number/],
      ['redis://:hunter2%zz-secret@127.0.0.1:6379', /not valid percent-encoding: write a literal "%" as %25/],
      ['redis://user%E0%A4%A@127.0.0.1', /not valid percent-encoding/],
      ['redis://:hunter2-secret@127.0.0.1:70000', /port must be a number from 1 to 65535/],
      ['redis://127.0.0.1:port', /must be a redis:\/\/ or rediss:\/\/ URL/],
      ['redis://127.0.0.1:0', /port must be a number from 1 to 65535/],
      ['redis://127.0.0.1:6379?family=6', /query options/],
      ['http://127.0.0.1:6379', /must start with redis:\/\/ or rediss:\/\//],
      ['127.0.0.1:6379', /redis:\/\//],
    ];
    for (const [url, message] of cases) {
      const error = assertIssue(`{ url: "${url}" }`, 'redis.url', message);
      assert.doesNotMatch(error.message, /hunter2/, `the password leaked for ${url}`);
    }
  });

  it('batchwatch run exits 2 naming redis.url (no stack trace) for a non-numeric db', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'batchwatch-redis-config-'));
    try {
      const file = join(dir, 'bad.yaml');
      writeFileSync(file, yaml('{ url: "redis://127.0.0.1:6379/zero" }'));
      const result = await runCli(['run', '--config', file]);
      assert.equal(result.code, 2);
      assert.match(result.stderr, /redis\.url: the path must be a database number/);
      assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('redis.sentinel and redis.cluster', () => {
  it('reads a Sentinel group with passwords, registers them as secrets and masks them', () => {
    const config = parseConfig(
      yaml(
        '{ sentinel: { name: mymaster, nodes: ["10.0.0.5:26379", "[::1]:26380"], password: "${REDIS_PASSWORD}", sentinelPassword: "${SENTINEL_PASSWORD}", tls: true }, prefix: bw }',
      ),
      { REDIS_PASSWORD: 'data-node-secret', SENTINEL_PASSWORD: 'sentinel-secret' },
    );
    assert.deepEqual(config.redis, {
      sentinel: {
        name: 'mymaster',
        nodes: [
          { host: '10.0.0.5', port: 26379 },
          { host: '::1', port: 26380 },
        ],
        password: 'data-node-secret',
        sentinelPassword: 'sentinel-secret',
        tls: true,
      },
      prefix: 'bw',
    });
    const secrets = configSecrets(config);
    assert.ok(secrets.includes('data-node-secret') && secrets.includes('sentinel-secret'));
    const shown = JSON.stringify(redactedConfig(config));
    assert.doesNotMatch(shown, /data-node-secret|sentinel-secret/);
    assert.match(shown, /"password":"\*\*\*","sentinelPassword":"\*\*\*"/);
  });

  it('reads a Cluster and masks its password', () => {
    const config = parseConfig(
      yaml('{ cluster: { nodes: ["10.0.0.5:7000", "10.0.0.6:7000"], username: app, password: cluster-secret } }'),
      {},
    );
    assert.deepEqual(config.redis, {
      cluster: {
        nodes: [
          { host: '10.0.0.5', port: 7000 },
          { host: '10.0.0.6', port: 7000 },
        ],
        username: 'app',
        password: 'cluster-secret',
        tls: false,
      },
      prefix: 'batchwatch',
    });
    assert.ok(configSecrets(config).includes('cluster-secret'));
    assert.doesNotMatch(JSON.stringify(redactedConfig(config)), /cluster-secret/);
  });

  it('url, sentinel and cluster are mutually exclusive: the error names the keys given', () => {
    const sentinel = 'sentinel: { name: m, nodes: ["h:26379"] }';
    const cluster = 'cluster: { nodes: ["h:7000"] }';
    assertIssue(`{ url: "redis://h:6379", ${sentinel} }`, 'redis', /give only one of redis\.url, redis\.sentinel/);
    assertIssue(`{ ${sentinel}, ${cluster} }`, 'redis', /give only one of redis\.sentinel, redis\.cluster/);
    assertIssue(`{ url: "redis://h:6379", ${sentinel}, ${cluster} }`, 'redis', /redis\.url, redis\.sentinel, redis\.cluster/);
  });

  it('every Sentinel key rejects a bad value, naming it', () => {
    assertIssue('{ sentinel: { nodes: ["h:26379"] } }', 'redis.sentinel.name', /is required/);
    assertIssue('{ sentinel: { name: "  ", nodes: ["h:26379"] } }', 'redis.sentinel.name', /must not be empty/);
    assertIssue('{ sentinel: { name: m } }', 'redis.sentinel.nodes', /is required/);
    assertIssue('{ sentinel: { name: m, nodes: [] } }', 'redis.sentinel.nodes', /at least one host:port/);
    assertIssue('{ sentinel: { name: m, nodes: "h:26379" } }', 'redis.sentinel.nodes', /expected a list/);
    assertIssue('{ sentinel: { name: m, nodes: ["h"] } }', 'redis.sentinel.nodes[0]', /must be host:port/);
    assertIssue('{ sentinel: { name: m, nodes: ["h:26379", "h:0"] } }', 'redis.sentinel.nodes[1]', /port from 1 to 65535/);
    assertIssue('{ sentinel: { name: m, nodes: ["redis://h:26379"] } }', 'redis.sentinel.nodes[0]', /must be host:port/);
    assertIssue('{ sentinel: { name: m, nodes: ["h:26379"], password: 123 } }', 'redis.sentinel.password', /expected a string/);
    assertIssue(
      '{ sentinel: { name: m, nodes: ["h:26379"], sentinelPassword: [x] } }',
      'redis.sentinel.sentinelPassword',
      /expected a string/,
    );
    assertIssue('{ sentinel: { name: m, nodes: ["h:26379"], username: {} } }', 'redis.sentinel.username', /expected a string/);
    assertIssue('{ sentinel: { name: m, nodes: ["h:26379"], tls: maybe } }', 'redis.sentinel.tls', /true or false/);
    assertIssue('{ sentinel: { name: m, nodes: ["h:26379"], master: x } }', 'redis.sentinel.master', /unknown key/);
    assertIssue('{ sentinel: "m@h:26379" }', 'redis.sentinel', /expected a mapping/);
  });

  it('every Cluster key rejects a bad value, naming it', () => {
    assertIssue('{ cluster: {} }', 'redis.cluster.nodes', /is required/);
    assertIssue('{ cluster: { nodes: [] } }', 'redis.cluster.nodes', /at least one host:port/);
    assertIssue('{ cluster: { nodes: ["h:7000", "h:99999"] } }', 'redis.cluster.nodes[1]', /port from 1 to 65535/);
    assertIssue('{ cluster: { nodes: ["h:7000"], password: 7 } }', 'redis.cluster.password', /expected a string/);
    assertIssue('{ cluster: { nodes: ["h:7000"], username: [a] } }', 'redis.cluster.username', /expected a string/);
    assertIssue('{ cluster: { nodes: ["h:7000"], tls: 2 } }', 'redis.cluster.tls', /true or false/);
    assertIssue('{ cluster: { nodes: ["h:7000"], nodess: [] } }', 'redis.cluster.nodess', /unknown key \(did you mean "nodes"\?\)/);
  });
});

describe('redis.tls.ca', () => {
  let pki: TestCertificates;
  before(() => {
    pki = makeTestCertificates();
  });
  after(() => pki?.close());

  it('reads the CA file at load, for rediss://, sentinel.tls and cluster.tls', () => {
    const single = parseConfig(yaml(`{ url: "rediss://h:6380", tls: { ca: "${pki.caFile}" } }`), {});
    assert.equal(single.redis.tls?.caFile, pki.caFile);
    assert.match(single.redis.tls?.ca ?? '', /^-----BEGIN CERTIFICATE-----/);
    assert.deepEqual(
      (redactedConfig(single) as { redis: { tls: unknown } }).redis.tls,
      { ca: pki.caFile },
      'the file is shown, not its contents',
    );
    parseConfig(yaml(`{ sentinel: { name: m, nodes: ["h:26379"], tls: true }, tls: { ca: "${pki.caFile}" } }`), {});
    parseConfig(yaml(`{ cluster: { nodes: ["h:7000"], tls: "true" }, tls: { ca: "${pki.caFile}" } }`), {});
  });

  it('a missing file, a directory, a file without a certificate or a broken certificate: errors naming redis.tls.ca', () => {
    const notPem = join(pki.dir, 'not.pem');
    const broken = join(pki.dir, 'broken.pem');
    writeFileSync(notPem, 'hello\n');
    writeFileSync(broken, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    assertIssue(
      `{ url: "rediss://h", tls: { ca: "${join(pki.dir, 'missing.pem')}" } }`,
      'redis.tls.ca',
      /cannot read the CA file .*missing\.pem \(no such file\)/,
    );
    assertIssue(`{ url: "rediss://h", tls: { ca: "${pki.dir}" } }`, 'redis.tls.ca', /is a directory/);
    assertIssue(`{ url: "rediss://h", tls: { ca: "${notPem}" } }`, 'redis.tls.ca', /is not a PEM certificate file/);
    assertIssue(`{ url: "rediss://h", tls: { ca: "${broken}" } }`, 'redis.tls.ca', /cannot be read \(damaged PEM\)/);
    assertIssue('{ url: "rediss://h", tls: { ca: "" } }', 'redis.tls.ca', /must not be empty/);
    assertIssue('{ url: "rediss://h", tls: { cafile: x } }', 'redis.tls.cafile', /unknown key/);
  });

  it('without a TLS connection to apply to, names redis.tls.ca and says how to turn TLS on', () => {
    assertIssue(
      `{ url: "redis://h:6379", tls: { ca: "${pki.caFile}" } }`,
      'redis.tls.ca',
      /TLS connections only: use a rediss:\/\/ URL in redis\.url/,
    );
    assertIssue(`{ tls: { ca: "${pki.caFile}" } }`, 'redis.tls.ca', /use a rediss:\/\/ URL/);
    assertIssue(
      `{ sentinel: { name: m, nodes: ["h:1"] }, tls: { ca: "${pki.caFile}" } }`,
      'redis.tls.ca',
      /set redis\.sentinel\.tls: true/,
    );
    assertIssue(
      `{ cluster: { nodes: ["h:1"], tls: false }, tls: { ca: "${pki.caFile}" } }`,
      'redis.tls.ca',
      /set redis\.cluster\.tls: true/,
    );
  });
});

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../src/config/load.ts';
import { redisCheck } from '../src/metrics/readiness.ts';
import { createRedisClient, type ConnectionLog } from '../src/redis/connections.ts';
import { startPrivateRedis, type PrivateRedis } from '../src/runtime/private-redis.ts';
import { startSimulator, type Simulator } from '../src/simulator/server.ts';
import { makeTestCertificates, type TestCertificates } from './helpers/certificates.ts';
import { runCli } from './helpers/cli.ts';
import { waitUntil } from './helpers/wait.ts';

function configYaml(simulatorUrl: string, redis: string): string {
  return `superoffice: { url: "${simulatorUrl}", username: demo, password: demo, timeout: 3s }
redis: ${redis}
schedules: [{ name: sales, associates: [101], every: 60s }]
mail: { enabled: false }
`;
}

class Warnings implements ConnectionLog {
  readonly lines: string[] = [];
  warn(fields: object, msg: string) {
    this.lines.push(`${msg} ${JSON.stringify(fields)}`);
  }
  info() {}
  debug() {}
}

describe('Redis over TLS with a private CA (redis.tls.ca)', () => {
  let pki: TestCertificates;
  let redis: PrivateRedis;
  let simulator: Simulator;

  before(async () => {
    pki = makeTestCertificates();
    redis = await startPrivateRedis({ tls: { certFile: pki.serverCertFile, keyFile: pki.serverKeyFile } });
    simulator = await startSimulator({ scenario: 'empty' });
  });
  after(async () => {
    await simulator?.close();
    await redis?.close();
    pki?.close();
  });

  it('connects with verification on when redis.tls.ca names the CA that signed the server certificate', async () => {
    assert.match(redis.url, /^rediss:/);
    const config = parseConfig(configYaml(simulator.url, `{ url: "${redis.url}", tls: { ca: "${pki.caFile}" } }`), {});
    const client = createRedisClient(config.redis, 'commands');
    try {
      assert.equal(await client.ping(), 'PONG');
      const options = (client as unknown as { options: { tls?: { ca?: string; rejectUnauthorized?: boolean } } }).options;
      assert.match(options.tls?.ca ?? '', /BEGIN CERTIFICATE/);
      assert.notEqual(options.tls?.rejectUnauthorized, false, 'verification stays on');
    } finally {
      client.disconnect();
    }
  });

  it('without the CA (or with another one) fails with an error that names redis.tls.ca', async () => {
    for (const redisSection of [`{ url: "${redis.url}" }`, `{ url: "${redis.url}", tls: { ca: "${pki.otherCaFile}" } }`]) {
      const config = parseConfig(configYaml(simulator.url, redisSection), {});
      const warnings = new Warnings();
      const probe = createRedisClient(config.redis, 'probe', warnings);
      try {
        await waitUntil(() => warnings.lines.length > 0, 5000, 'the connection error');
        assert.match(warnings.lines[0]!, /Redis unreachable.*certificate.*not trusted; set redis\.tls\.ca/);
        const verdict = await redisCheck(probe)();
        assert.match(verdict && !Array.isArray(verdict) ? (verdict.reason ?? '') : '', /redis unreachable: .*set redis\.tls\.ca/);
      } finally {
        probe.disconnect();
      }
    }
  });

  it('batchwatch check: ok with the CA, FAIL naming redis.tls.ca without it', async () => {
    const good = join(pki.dir, 'good.yaml');
    const bad = join(pki.dir, 'bad.yaml');
    writeFileSync(good, configYaml(simulator.url, `{ url: "${redis.url}", tls: { ca: "${pki.caFile}" } }`));
    writeFileSync(bad, configYaml(simulator.url, `{ url: "${redis.url}" }`));
    const ok = await runCli(['check', '--config', good]);
    assert.match(ok.stdout, /^ok\s+redis\s+rediss:\/\/127\.0\.0\.1:\d+ reachable/m, ok.stdout + ok.stderr);
    assert.equal(ok.code, 0, ok.stdout);
    const failed = await runCli(['check', '--config', bad]);
    assert.equal(failed.code, 1);
    assert.match(failed.stdout, /^FAIL\s+redis\s+rediss:\/\/127\.0\.0\.1:\d+: .*set redis\.tls\.ca/m, failed.stdout);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { healthRoutes } from '../src/http/core-routes.ts';
import { startHttpServer, type HttpServer } from '../src/http/server.ts';
import { createLogger } from '../src/log.ts';
import { noopInstruments } from '../src/metrics/instruments.ts';
import { pollSchedule, type PollDeps, type PollReport } from '../src/monitor/poll.ts';
import { SnapshotStore } from '../src/store/snapshot-store.ts';
import { createSuperOfficeClient } from '../src/superoffice/client.ts';
import { startRedis, type PrivateRedis } from './helpers/redis.ts';
import { S11, soapConfig, SO, startSoapServer, taskXml, type SoapTestServer } from './helpers/soap-server.ts';
import { testRules } from './helpers/monitor.ts';

const MB = 1024 * 1024;
const schedule = { name: 'load', associates: [12], timing: { every: 60_000 } };

/** Polls once while probing /healthz of the project's HTTP server in this same process; the probes' latencies. */
async function probeWhilePolling(http: HttpServer, deps: PollDeps): Promise<{ report: PollReport; latencies: number[] }> {
  let polling = true;
  const latencies: number[] = [];
  const probes = (async () => {
    while (polling) {
      const started = performance.now();
      const res = await fetch(`${http.url}/healthz`);
      await res.text();
      latencies.push(performance.now() - started);
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  const report = await pollSchedule(schedule, deps);
  polling = false;
  await probes;
  return { report, latencies };
}

describe('a huge or hostile answer does not freeze the process', () => {
  let redisServer: PrivateRedis;
  let redis: Redis;
  let soap: SoapTestServer;
  let http: HttpServer;
  let deps: PollDeps;

  before(async () => {
    redisServer = await startRedis();
    redis = new Redis(redisServer.url);
    soap = await startSoapServer();
    http = await startHttpServer({
      host: '127.0.0.1',
      port: 0,
      routes: healthRoutes({ readiness: async () => ({ ready: true, reasons: [] }) }),
    });
    deps = {
      source: createSuperOfficeClient(soapConfig(soap.url, { timeout: 60_000 })),
      store: new SnapshotStore(redis, 'load'),
      rules: testRules,
      instruments: noopInstruments,
      log: createLogger('silent'),
    };
  });
  after(async () => {
    await http.close();
    await soap.close();
    redis.disconnect();
    await redisServer.close();
  });

  it('a 20 MB garbage 200 answer: the poll fails as malformed, /healthz answers within 1 s throughout', async () => {
    soap.answer(Buffer.alloc(20 * MB, '<>&<!x'), 200);
    const { report, latencies } = await probeWhilePolling(http, deps);
    assert.equal(report.result, 'failure');
    assert.equal(report.outcome.ok ? null : report.outcome.error.kind, 'malformed');
    assert.ok(latencies.length >= 1);
    assert.ok(Math.max(...latencies) < 1000, `slowest /healthz ${Math.max(...latencies).toFixed(0)} ms`);
  });

  it('a 20 MB well-formed answer is parsed between /healthz answers (each within 1 s)', async () => {
    // Mostly elements the reader skips, so that parsing (not the snapshot) is what takes the time.
    const junk = '<Junk a="1"><Deeper>some text &amp; more</Deeper></Junk>'.repeat((20 * MB) / 55);
    soap.answer(
      `<s:Envelope xmlns:s="${S11}"><s:Body><GetBatchTaskInfosByAssociatesResponse xmlns="${SO}"><Response>` +
        `${taskXml({ Id: '1' })}${junk}${taskXml({ Id: '2' })}</Response></GetBatchTaskInfosByAssociatesResponse></s:Body></s:Envelope>`,
    );
    const { report, latencies } = await probeWhilePolling(http, deps);
    assert.equal(report.result, 'success', JSON.stringify(report.outcome));
    assert.deepEqual(Object.keys(report.snapshot.tasks), ['1', '2']);
    assert.ok(latencies.length >= 2, `the poll ran long enough to be probed (${latencies.length} probes)`);
    assert.ok(Math.max(...latencies) < 1000, `slowest /healthz ${Math.max(...latencies).toFixed(0)} ms`);
  });
});

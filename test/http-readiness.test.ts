import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import type { Snapshot } from '../src/core/model.ts';
import { healthRoutes, metricsRoute } from '../src/http/core-routes.ts';
import { startHttpServer, type HttpServer } from '../src/http/server.ts';
import { redisReadiness } from '../src/metrics/readiness.ts';
import { createMetrics, type Metrics } from '../src/metrics/registry.ts';
import { SnapshotRefresher } from '../src/metrics/snapshot-view.ts';
import { SnapshotCache } from '../src/store/snapshot-cache.ts';
import { SnapshotStore } from '../src/store/snapshot-store.ts';
import { startRedis, type PrivateRedis } from './helpers/redis.ts';
import { find, parseSamples, sampleValue } from './helpers/prometheus-text.ts';
import { waitUntil } from './helpers/wait.ts';
import { record, snapshot, task } from './metrics-fixtures.ts';

async function waitForStatus(url: string, status: number, withinMs: number): Promise<number> {
  const started = Date.now();
  let last = 0;
  while (Date.now() - started < withinMs) {
    last = (await fetch(url)).status;
    if (last === status) return Date.now() - started;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`${url} stayed ${last}, expected ${status} within ${withinMs}ms`);
}

describe('/readyz and /metrics against a real Redis that goes away and comes back', () => {
  let redisServer: PrivateRedis;
  let probe: Redis;
  let server: HttpServer;
  let metrics: Metrics;
  let refresher: SnapshotRefresher;
  let registered = false;

  before(async () => {
    redisServer = await startRedis();
    // Same shape as the daemon's probe connection: fail fast, reconnect in the background.
    probe = new Redis(redisServer.url, {
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      connectTimeout: 1000,
      retryStrategy: () => 100,
    });
    probe.on('error', () => {});
    await new Promise<void>((resolve) => probe.once('ready', () => resolve()));
    const stored: Snapshot = snapshot('sales', {
      lastSuccessAt: Date.now(),
      tasks: [record(task({ id: 42, state: 'Started', progressPercent: 50 }))],
    });
    await new SnapshotStore(probe, 'batchwatch-test').commit(stored, 0, null);

    // Wired like the daemon: a background refresh on the probe connection keeps the metrics' copy current.
    const cache = new SnapshotCache();
    const probeStore = new SnapshotStore(probe, 'batchwatch-test', cache);
    refresher = new SnapshotRefresher({
      cache,
      refresh: (schedules) => probeStore.loadAll(schedules),
      schedules: ['sales'],
      intervalMs: 200,
      connected: () => probe.status === 'ready',
    });
    probe.on('ready', () => void refresher.refreshNow());
    await refresher.start();
    metrics = createMetrics({ snapshots: refresher, schedules: ['sales'] });
    server = await startHttpServer({
      host: '127.0.0.1',
      port: 0,
      routes: [metricsRoute(metrics), ...healthRoutes({ readiness: redisReadiness(probe, () => registered, 500) })],
    });
  });

  after(async () => {
    await server?.close();
    await refresher?.stop();
    metrics?.close();
    probe?.disconnect();
    await redisServer?.close();
  });

  it('is 503 until the schedules are registered, then 200', async () => {
    const res = await fetch(`${server.url}/readyz`);
    assert.equal(res.status, 503);
    assert.match(await res.text(), /schedules not registered/);
    registered = true;
    assert.equal((await fetch(`${server.url}/readyz`)).status, 200);
  });

  it('is 503 while Redis is stopped (and /metrics still answers fast), 200 once it is back', async () => {
    await redisServer.stop();
    await waitForStatus(`${server.url}/readyz`, 503, 3000);
    const down = await fetch(`${server.url}/readyz`);
    assert.match(await down.text(), /redis unreachable/);

    const started = Date.now();
    const scrape = await fetch(`${server.url}/metrics`);
    assert.equal(scrape.status, 200);
    assert.ok(Date.now() - started < 3000);
    const samples = parseSamples(await scrape.text());
    assert.equal(find(samples, 'superoffice_batch_task_state').length, 0);
    assert.ok(sampleValue(samples, 'batchwatch_scrape_errors_total', { part: 'snapshots' }) >= 1);

    await redisServer.start();
    await waitForStatus(`${server.url}/readyz`, 200, 10_000);
    // The series come back with the first refresh after the reconnect (the scrape itself never reads Redis).
    await waitUntil(
      async () =>
        find(parseSamples(await (await fetch(`${server.url}/metrics`)).text()), 'superoffice_batch_task_progress_ratio').length > 0,
      5000,
      'task series after the restart',
    );
    const back = parseSamples(await (await fetch(`${server.url}/metrics`)).text());
    assert.equal(sampleValue(back, 'superoffice_batch_task_progress_ratio', { task_id: '42' }), 0.5);
  });
});

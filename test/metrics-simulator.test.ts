import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { healthRoutes, metricsRoute } from '../src/http/core-routes.ts';
import { startHttpServer, type HttpServer } from '../src/http/server.ts';
import type { Instruments } from '../src/metrics/instruments.ts';
import { createMetrics, type Metrics } from '../src/metrics/registry.ts';
import { SnapshotRefresher } from '../src/metrics/snapshot-view.ts';
import { SnapshotCache } from '../src/store/snapshot-cache.ts';
import { pollSchedule, type PollDeps } from '../src/monitor/poll.ts';
import { startSimulator, type Simulator } from '../src/simulator/server.ts';
import { SnapshotStore } from '../src/store/snapshot-store.ts';
import { createSuperOfficeClient } from '../src/superoffice/client.ts';
import { pollDeps, RecordingSink, salesSchedule, superOfficeConfig, testRules } from './helpers/monitor.ts';
import { PROMTOOL_MISSING, find, usePromtool, parseSamples, promtool, sampleValue } from './helpers/prometheus-text.ts';
import { startRedis, type PrivateRedis } from './helpers/redis.ts';

describe('/metrics after polls of the SuperOffice simulator through the real store', () => {
  let redisServer: PrivateRedis;
  let redis: Redis;
  let simulator: Simulator;
  let server: HttpServer;
  let deps: PollDeps;
  let instruments: Instruments;
  let metrics: Metrics;

  const scrape = async () => {
    await metrics.settled();
    const body = await (await fetch(`${server.url}/metrics`)).text();
    return { body, samples: parseSamples(body) };
  };

  before(async () => {
    redisServer = await startRedis();
    redis = new Redis(redisServer.url);
    simulator = await startSimulator({ scenario: 'empty' });
    // The daemon's wiring: the poll's store and the metrics share one in-process copy of the snapshots.
    const cache = new SnapshotCache();
    const store = new SnapshotStore(redis, 'metrics-sim', cache);
    const view = new SnapshotRefresher({ cache, refresh: (schedules) => store.loadAll(schedules), schedules: [salesSchedule.name] });
    metrics = createMetrics({ snapshots: view, schedules: [salesSchedule.name] });
    instruments = metrics.instruments;
    deps = { ...pollDeps(simulator.url, store, new RecordingSink(), { ...testRules, stallAfter: 300 }), instruments };
    server = await startHttpServer({
      host: '127.0.0.1',
      port: 0,
      routes: [metricsRoute(metrics), ...healthRoutes({ readiness: async () => ({ ready: true, reasons: [] }) })],
    });
  });
  after(async () => {
    await server?.close();
    metrics?.close();
    redis?.disconnect();
    await simulator?.close();
    await redisServer?.close();
  });

  it('reports running, failed and stalled tasks, poll counters, and passes promtool', async () => {
    const now = Date.now();
    simulator.upsertTask({
      id: 4711,
      associateId: 101,
      name: 'MailingSend',
      state: 'Started',
      progressPercent: 25,
      startCount: 2,
      lastStarted: now,
    });
    simulator.upsertTask({
      id: 4712,
      associateId: 102,
      name: 'Import',
      state: 'Started',
      progressPercent: 60,
      startCount: 1,
      lastStarted: now,
    });
    assert.equal((await pollSchedule(salesSchedule, deps)).result, 'success');
    simulator.upsertTask({ id: 4712, associateId: 102, name: 'Import', state: 'Failed', progressPercent: 60, response: 'disk full' });
    await new Promise((r) => setTimeout(r, 400)); // longer than stallAfter: 4711 has not moved
    assert.equal((await pollSchedule(salesSchedule, deps)).result, 'success');

    const { body, samples } = await scrape();
    assert.equal(sampleValue(samples, 'superoffice_batch_task_state', { task_id: '4711', state: 'Started' }), 1);
    assert.equal(sampleValue(samples, 'superoffice_batch_task_state', { task_id: '4712', state: 'Failed' }), 1);
    assert.equal(sampleValue(samples, 'superoffice_batch_task_state', { task_id: '4712', state: 'Started' }), 0);
    assert.equal(
      sampleValue(samples, 'superoffice_batch_task_progress_ratio', { task_id: '4711', associate_id: '101', task_name: 'MailingSend' }),
      0.25,
    );
    assert.equal(sampleValue(samples, 'superoffice_batch_task_stalled', { task_id: '4711' }), 1);
    assert.equal(sampleValue(samples, 'superoffice_batch_task_stalled', { task_id: '4712' }), 0);
    assert.equal(sampleValue(samples, 'superoffice_batch_task_starts', { task_id: '4711' }), 2);
    assert.equal(sampleValue(samples, 'batchwatch_superoffice_up', { schedule: 'sales' }), 1);
    const lastSuccess = sampleValue(samples, 'batchwatch_last_successful_poll_timestamp_seconds', { schedule: 'sales' });
    assert.ok(Math.abs(lastSuccess - Date.now() / 1000) < 5, `last success ${lastSuccess}`);
    assert.equal(sampleValue(samples, 'batchwatch_polls_total', { schedule: 'sales', result: 'success' }), 2);
    assert.equal(sampleValue(samples, 'batchwatch_events_detected_total', { schedule: 'sales', kind: 'failed' }), 1);
    assert.equal(sampleValue(samples, 'batchwatch_events_detected_total', { schedule: 'sales', kind: 'stalled' }), 1);
    if (usePromtool) assert.equal(promtool(['check', 'metrics'], body).output, '');
    else console.log(`# ${PROMTOOL_MISSING}`);
  });

  it('drops the series of a task SuperOffice no longer returns', async () => {
    simulator.removeTask(4712);
    await pollSchedule(salesSchedule, deps);
    const { samples } = await scrape();
    assert.deepEqual(
      samples.filter((s) => s.labels.task_id === '4712'),
      [],
    );
    assert.equal(find(samples, 'superoffice_batch_task_state', { task_id: '4711' }).length > 0, true);
  });

  it('shows SuperOffice down after a failed poll, and the last success stays put', async () => {
    const before = sampleValue((await scrape()).samples, 'batchwatch_last_successful_poll_timestamp_seconds', { schedule: 'sales' });
    const unreachable: PollDeps = {
      ...deps,
      source: createSuperOfficeClient({ ...superOfficeConfig('http://127.0.0.1:1'), timeout: 1000 }),
    };
    assert.equal((await pollSchedule(salesSchedule, unreachable)).result, 'failure');
    const { samples } = await scrape();
    assert.equal(sampleValue(samples, 'batchwatch_superoffice_up', { schedule: 'sales' }), 0);
    assert.equal(sampleValue(samples, 'batchwatch_last_successful_poll_timestamp_seconds', { schedule: 'sales' }), before);
    assert.equal(sampleValue(samples, 'batchwatch_polls_total', { schedule: 'sales', result: 'failure' }), 1);
    assert.equal(sampleValue(samples, 'batchwatch_consecutive_poll_failures', { schedule: 'sales' }), 1);
  });
});

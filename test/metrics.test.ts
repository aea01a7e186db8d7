import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Snapshot } from '../src/core/model.ts';
import { KNOWN_STATES } from '../src/core/task.ts';
import { healthRoutes, metricsRoute } from '../src/http/core-routes.ts';
import { startHttpServer, type HttpServer } from '../src/http/server.ts';
import { createMetrics, type Metrics, type MetricsDeps } from '../src/metrics/registry.ts';
import { MemoryView } from './helpers/memory-view.ts';
import { PROMTOOL_MISSING, find, usePromtool, parseSamples, promtool, sampleValue, type ParsedSample } from './helpers/prometheus-text.ts';
import { record, snapshot, stalledAlert, task } from './metrics-fixtures.ts';

const MINUTE = 60_000;

interface Served {
  server: HttpServer & { metrics: Metrics };
  instruments: Metrics['instruments'];
}

async function serve(deps: MetricsDeps, readiness = async () => ({ ready: true, reasons: [] as string[] })): Promise<Served> {
  const metrics = createMetrics(deps);
  const server = await startHttpServer({ host: '127.0.0.1', port: 0, routes: [metricsRoute(metrics), ...healthRoutes({ readiness })] });
  const close = server.close;
  return {
    server: {
      ...server,
      metrics,
      close: () => {
        metrics.close();
        return close();
      },
    },
    instruments: metrics.instruments,
  };
}

/** Waits until the snapshots handed over are reflected (the series are built in the background), then scrapes. */
async function scrape(
  server: Served['server'],
): Promise<{ status: number; contentType: string | null; body: string; samples: ParsedSample[] }> {
  await server.metrics.settled();
  const res = await fetch(`${server.url}/metrics`);
  const body = await res.text();
  return { status: res.status, contentType: res.headers.get('content-type'), body, samples: parseSamples(body) };
}

const taskLabels = (id: number) => ({ task_id: String(id) });

describe('/metrics from shared snapshots', () => {
  const now = Date.now();
  const lastSuccess = now - 30_000;
  let view: MemoryView;
  let server: Served['server'];
  let instruments: Metrics['instruments'];

  const fullStory = (): Snapshot[] => [
    snapshot('sales', {
      lastPollAt: lastSuccess,
      lastSuccessAt: lastSuccess,
      tasks: [
        record(
          task({ id: 101, name: 'Mailing "Spring"', state: 'Started', progressPercent: 42, lastStarted: now - 20 * MINUTE, startCount: 3 }),
          {
            firstSeenAt: now - 20 * MINUTE,
            stateSince: now - 20 * MINUTE,
            progressSince: now - 16 * MINUTE,
          },
        ),
        record(task({ id: 102, name: 'Export', associateId: 14, state: 'New' }), { firstSeenAt: now - MINUTE }),
        record(task({ id: 103, name: 'Import', state: 'Failed', progressPercent: 70 }), { stateSince: now - 10 * MINUTE }),
        record(task({ id: 104, name: 'Old import', state: 'Succeeded', progressPercent: 100 }), { stateSince: now - 2 * 60 * MINUTE }),
        record(task({ id: 105, name: 'Future', state: 'Paused' }), {}),
      ],
      alerts: { 'stalled:101': stalledAlert(101, now - MINUTE) },
    }),
    snapshot('billing', { consecutiveFailures: 3, lastPollAt: now - 5000, lastSuccessAt: now - 10 * MINUTE }),
  ];

  before(async () => {
    view = new MemoryView(fullStory());
    ({ server, instruments } = await serve({
      snapshots: view,
      queueDepth: async () => 7,
      schedules: ['sales', 'billing', 'fresh'],
    }));
  });
  after(() => server.close());

  it('exports the pinned task gauges with the right values', async () => {
    const { status, contentType, samples } = await scrape(server);
    assert.equal(status, 200);
    assert.match(contentType ?? '', /^text\/plain; version=0\.0\.4/);

    const states = find(samples, 'superoffice_batch_task_state', taskLabels(101));
    assert.deepEqual(
      states.map((s) => s.labels.state),
      [...KNOWN_STATES],
    );
    for (const s of states) assert.equal(s.value, s.labels.state === 'Started' ? 1 : 0, `state ${s.labels.state}`);
    assert.deepEqual(states[0]!.labels, { associate_id: '12', task_id: '101', task_name: 'Mailing "Spring"', state: 'Unknown' });

    assert.equal(sampleValue(samples, 'superoffice_batch_task_progress_ratio', taskLabels(101)), 0.42);
    assert.equal(sampleValue(samples, 'superoffice_batch_task_stalled', taskLabels(101)), 1);
    assert.equal(sampleValue(samples, 'superoffice_batch_task_stalled', taskLabels(102)), 0);
    assert.equal(sampleValue(samples, 'superoffice_batch_task_state', { task_id: '102', associate_id: '14', state: 'New' }), 1);
    // No ProgressPercent from SuperOffice: no ratio rather than a made-up 0.
    assert.equal(find(samples, 'superoffice_batch_task_progress_ratio', taskLabels(102)).length, 0);

    assert.equal(
      sampleValue(samples, 'superoffice_batch_task_last_started_timestamp_seconds', taskLabels(101)),
      (now - 20 * MINUTE) / 1000,
    );
    assert.equal(sampleValue(samples, 'superoffice_batch_task_starts', taskLabels(101)), 3);
    assert.equal(
      sampleValue(samples, 'superoffice_batch_task_progress_changed_timestamp_seconds', taskLabels(101)),
      (now - 16 * MINUTE) / 1000,
    );
  });

  it('gives an unknown state its own series and keeps the known ones at 0', async () => {
    const { samples } = await scrape(server);
    const states = find(samples, 'superoffice_batch_task_state', taskLabels(105));
    assert.equal(states.length, KNOWN_STATES.length + 1);
    assert.deepEqual(
      states.filter((s) => s.value === 1).map((s) => s.labels.state),
      ['Paused'],
    );
  });

  it('keeps a recently finished task and drops one finished longer than the retention', async () => {
    const { samples } = await scrape(server);
    assert.equal(sampleValue(samples, 'superoffice_batch_task_state', { task_id: '103', state: 'Failed' }), 1);
    assert.equal(find(samples, 'superoffice_batch_task_state', taskLabels(104)).length, 0);
    assert.equal(find(samples, 'superoffice_batch_task_progress_ratio', taskLabels(104)).length, 0);
    // Still counted: it is still what SuperOffice returns.
    assert.equal(sampleValue(samples, 'superoffice_batch_tasks', { associate_id: '12', state: 'Succeeded' }), 1);
    assert.equal(sampleValue(samples, 'superoffice_batch_tasks', { associate_id: '12', state: 'Started' }), 1);
    assert.equal(sampleValue(samples, 'superoffice_batch_tasks', { associate_id: '12', state: 'Paused' }), 1);
    assert.equal(sampleValue(samples, 'superoffice_batch_tasks', { associate_id: '14', state: 'New' }), 1);
    assert.equal(sampleValue(samples, 'superoffice_batch_tasks', { associate_id: '14', state: 'Failed' }), 0);
  });

  it('reports every configured schedule: up, last successful poll as unix seconds', async () => {
    const { samples } = await scrape(server);
    assert.equal(sampleValue(samples, 'batchwatch_superoffice_up', { schedule: 'sales' }), 1);
    assert.equal(sampleValue(samples, 'batchwatch_superoffice_up', { schedule: 'billing' }), 0);
    assert.equal(sampleValue(samples, 'batchwatch_superoffice_up', { schedule: 'fresh' }), 0);
    assert.equal(sampleValue(samples, 'batchwatch_last_successful_poll_timestamp_seconds', { schedule: 'sales' }), lastSuccess / 1000);
    assert.equal(
      sampleValue(samples, 'batchwatch_last_successful_poll_timestamp_seconds', { schedule: 'billing' }),
      (now - 10 * MINUTE) / 1000,
    );
    assert.equal(find(samples, 'batchwatch_last_successful_poll_timestamp_seconds', { schedule: 'fresh' }).length, 0);
    assert.equal(sampleValue(samples, 'batchwatch_consecutive_poll_failures', { schedule: 'billing' }), 3);
    assert.equal(sampleValue(samples, 'batchwatch_active_alerts', { schedule: 'sales', kind: 'stalled' }), 1);
    assert.equal(sampleValue(samples, 'batchwatch_notification_queue_depth'), 7);
  });

  it('shows a new snapshot in the next scrape, without a read of its own', async () => {
    const [sales, billing] = fullStory();
    view.set({ ...sales!, consecutiveFailures: 2 }, billing!);
    const { samples } = await scrape(server);
    assert.equal(sampleValue(samples, 'batchwatch_consecutive_poll_failures', { schedule: 'sales' }), 2);
    assert.equal(sampleValue(samples, 'batchwatch_superoffice_up', { schedule: 'sales' }), 0);
    view.set(...fullStory());
    assert.equal(sampleValue((await scrape(server)).samples, 'batchwatch_superoffice_up', { schedule: 'sales' }), 1);
  });

  it('counts what the adapters report through Instruments', async () => {
    instruments.pollCompleted('sales', 'success', 0.3);
    instruments.pollCompleted('sales', 'failure', 4);
    instruments.superofficeCallError('transport');
    instruments.eventsDetected('sales', 'failed', 2);
    instruments.notification('sent');
    instruments.notification('retried', 3);
    const { samples } = await scrape(server);
    assert.equal(sampleValue(samples, 'batchwatch_polls_total', { schedule: 'sales', result: 'success' }), 1);
    assert.equal(sampleValue(samples, 'batchwatch_polls_total', { schedule: 'sales', result: 'failure' }), 1);
    assert.equal(sampleValue(samples, 'batchwatch_polls_total', { schedule: 'billing', result: 'conflict' }), 0);
    assert.equal(sampleValue(samples, 'batchwatch_poll_duration_seconds_count', { schedule: 'sales' }), 2);
    assert.equal(sampleValue(samples, 'batchwatch_poll_duration_seconds_bucket', { schedule: 'sales', le: '0.5' }), 1);
    assert.equal(sampleValue(samples, 'batchwatch_superoffice_call_errors_total', { kind: 'transport' }), 1);
    assert.equal(sampleValue(samples, 'batchwatch_superoffice_call_errors_total', { kind: 'auth' }), 0);
    assert.equal(sampleValue(samples, 'batchwatch_events_detected_total', { schedule: 'sales', kind: 'failed' }), 2);
    assert.equal(sampleValue(samples, 'batchwatch_notifications_total', { outcome: 'sent' }), 1);
    assert.equal(sampleValue(samples, 'batchwatch_notifications_total', { outcome: 'retried' }), 3);
    assert.equal(sampleValue(samples, 'batchwatch_notifications_total', { outcome: 'given_up' }), 0);
  });

  it('passes promtool check metrics with no findings', { skip: !usePromtool && PROMTOOL_MISSING }, async () => {
    const { body, samples } = await scrape(server);
    assert.ok(find(samples, 'process_start_time_seconds').length === 1, 'process metrics are exported');
    const result = promtool(['check', 'metrics'], body);
    assert.equal(result.output, '');
    assert.equal(result.status, 0);
  });

  it('removes every series of a task that vanished from the snapshot', async () => {
    assert.ok(find((await scrape(server)).samples, 'superoffice_batch_task_state', taskLabels(102)).length > 0);
    const [sales, billing] = fullStory();
    delete sales!.tasks['102'];
    view.set(sales!, billing!);
    const { samples } = await scrape(server);
    assert.deepEqual(
      samples.filter((s) => s.labels.task_id === '102'),
      [],
    );
    assert.equal(find(samples, 'superoffice_batch_tasks', { associate_id: '14' }).length, 0);
    assert.equal(sampleValue(samples, 'superoffice_batch_task_state', { task_id: '101', state: 'Started' }), 1);
  });
});

describe('finished-task retention on a real clock', () => {
  it('keeps a finished task for finishedRetentionMs after it entered that state, then drops it', async () => {
    const finishedAt = Date.now();
    const snapshots = [
      snapshot('sales', {
        lastSuccessAt: finishedAt,
        tasks: [
          record(task({ id: 201, state: 'SucceededManualCleanup' }), { stateSince: finishedAt }),
          record(task({ id: 202, state: 'Started', progressPercent: 5 }), { stateSince: finishedAt - 60 * MINUTE }),
        ],
      }),
    ];
    const { server } = await serve({ snapshots: new MemoryView(snapshots), schedules: ['sales'], finishedRetentionMs: 400 });
    try {
      const early = (await scrape(server)).samples;
      assert.equal(sampleValue(early, 'superoffice_batch_task_state', { task_id: '201', state: 'SucceededManualCleanup' }), 1);
      await new Promise((r) => setTimeout(r, 500));
      const late = (await scrape(server)).samples;
      assert.equal(find(late, 'superoffice_batch_task_state', taskLabels(201)).length, 0);
      assert.equal(find(late, 'superoffice_batch_task_stalled', taskLabels(201)).length, 0);
      assert.equal(
        sampleValue(late, 'superoffice_batch_task_state', { task_id: '202', state: 'Started' }),
        1,
        'a running task stays however old',
      );
    } finally {
      await server.close();
    }
  });
});

describe('scrape when the snapshots cannot be kept current (Redis unreadable)', () => {
  it('answers 200 at once without the snapshot series and counts one error per scrape', async () => {
    const view = new MemoryView([snapshot('sales', { lastSuccessAt: Date.now(), tasks: [record(task({ id: 1, state: 'Started' }))] })]);
    view.isCurrent = false;
    const { server, instruments } = await serve({ snapshots: view, schedules: ['sales'] });
    try {
      instruments.pollCompleted('sales', 'failure', 1);
      const first = await scrape(server);
      assert.equal(first.status, 200);
      assert.equal(sampleValue(first.samples, 'batchwatch_scrape_errors_total', { part: 'snapshots' }), 1);
      assert.equal(find(first.samples, 'batchwatch_superoffice_up').length, 0);
      assert.equal(find(first.samples, 'superoffice_batch_task_state').length, 0);
      assert.equal(find(first.samples, 'superoffice_batch_tasks').length, 0);
      assert.equal(
        sampleValue(first.samples, 'batchwatch_polls_total', { schedule: 'sales', result: 'failure' }),
        1,
        'the rest of the scrape is intact',
      );
      const second = await scrape(server);
      assert.equal(
        sampleValue(second.samples, 'batchwatch_scrape_errors_total', { part: 'snapshots' }),
        2,
        'one error per scrape, not per metric',
      );
      if (usePromtool) assert.equal(promtool(['check', 'metrics'], second.body).output, '');
      view.isCurrent = true;
      const back = await scrape(server);
      assert.equal(sampleValue(back.samples, 'superoffice_batch_task_state', { task_id: '1', state: 'Started' }), 1);
      assert.equal(sampleValue(back.samples, 'batchwatch_scrape_errors_total', { part: 'snapshots' }), 2);
    } finally {
      await server.close();
    }
  });

  it('answers within ~3s when the queue depth read hangs, and leaves out only that', async () => {
    let calls = 0;
    const { server } = await serve({
      snapshots: new MemoryView([snapshot('sales', { lastSuccessAt: Date.now() })]),
      queueDepth: () => {
        calls++;
        return new Promise<number>(() => {});
      },
      schedules: ['sales'],
    });
    try {
      const started = Date.now();
      const { status, samples } = await scrape(server);
      const took = Date.now() - started;
      assert.equal(status, 200);
      assert.ok(took >= 1900 && took < 3000, `scrape took ${took}ms`);
      assert.equal(sampleValue(samples, 'batchwatch_scrape_errors_total', { part: 'queue' }), 1);
      assert.equal(sampleValue(samples, 'batchwatch_scrape_errors_total', { part: 'snapshots' }), 0);
      assert.equal(find(samples, 'batchwatch_notification_queue_depth').length, 0);
      assert.equal(sampleValue(samples, 'batchwatch_superoffice_up', { schedule: 'sales' }), 1);
      assert.equal(calls, 1);
      await scrape(server);
      assert.equal(calls, 2, 'the next scrape reads again');
    } finally {
      await server.close();
    }
  });

  it('leaves out only the queue depth when the queue cannot be read', async () => {
    const { server } = await serve({
      snapshots: new MemoryView([snapshot('sales', { lastSuccessAt: Date.now() })]),
      queueDepth: async () => {
        throw new Error('queue down');
      },
      schedules: ['sales'],
    });
    try {
      const { samples } = await scrape(server);
      assert.equal(find(samples, 'batchwatch_notification_queue_depth').length, 0);
      assert.equal(sampleValue(samples, 'batchwatch_scrape_errors_total', { part: 'queue' }), 1);
      assert.equal(sampleValue(samples, 'batchwatch_scrape_errors_total', { part: 'snapshots' }), 0);
      assert.equal(sampleValue(samples, 'batchwatch_superoffice_up', { schedule: 'sales' }), 1);
    } finally {
      await server.close();
    }
  });
});

describe('health endpoints', () => {
  let ready = { ready: false, reasons: ['redis unreachable: ECONNREFUSED', 'schedules not registered'] };
  let server: Served['server'];
  before(async () => {
    ({ server } = await serve({ snapshots: new MemoryView(), schedules: [] }, async () => ready));
  });
  after(() => server.close());

  it('/healthz answers 200 ok', async () => {
    const res = await fetch(`${server.url}/healthz`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'ok\n');
  });

  it('/readyz follows the readiness function: 503 with the reasons, then 200', async () => {
    const down = await fetch(`${server.url}/readyz`);
    assert.equal(down.status, 503);
    const text = await down.text();
    assert.match(text, /redis unreachable: ECONNREFUSED/);
    assert.match(text, /schedules not registered/);
    ready = { ready: true, reasons: [] };
    const up = await fetch(`${server.url}/readyz`);
    assert.equal(up.status, 200);
  });

  it('unknown paths are 404, other methods 405, HEAD has no body', async () => {
    assert.equal((await fetch(`${server.url}/nope`)).status, 404);
    const post = await fetch(`${server.url}/metrics`, { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
    const head = await fetch(`${server.url}/healthz`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
    assert.equal((await fetch(`${server.url}/healthz?probe=1`)).status, 200);
  });

  it('/readyz answers 503 when the readiness check itself hangs', async () => {
    const hanging = await startHttpServer({
      host: '127.0.0.1',
      port: 0,
      routes: healthRoutes({ readiness: () => new Promise(() => {}), readinessTimeoutMs: 200 }),
    });
    try {
      const res = await fetch(`${hanging.url}/readyz`);
      assert.equal(res.status, 503);
      assert.match(await res.text(), /readiness check timed out after 200ms/);
    } finally {
      await hanging.close();
    }
  });
});

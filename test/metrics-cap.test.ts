import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Snapshot, TaskRecord } from '../src/core/model.ts';
import { createMetrics } from '../src/metrics/registry.ts';
import { MemoryView } from './helpers/memory-view.ts';
import { find, usePromtool, parseSamples, promtool, sampleValue } from './helpers/prometheus-text.ts';
import { record, snapshot, stalledAlert, task } from './metrics-fixtures.ts';

/** metrics.maxExportedTasks: which tasks keep their series when there are more, and how that is told. */

const now = Date.now();
const MINUTE = 60_000;

function fleet(): Snapshot {
  const tasks: TaskRecord[] = [
    record(task({ id: 1, state: 'Succeeded' }), { stateSince: now - 5 * MINUTE }),
    record(task({ id: 2, state: 'Succeeded' }), { stateSince: now - 1 * MINUTE }),
    record(task({ id: 3, state: 'New' }), { stateSince: now - 1 * MINUTE }),
    record(task({ id: 4, state: 'Started' }), { stateSince: now - 30 * MINUTE }),
    record(task({ id: 5, state: 'Started' }), { stateSince: now - 2 * MINUTE }),
    record(task({ id: 6, state: 'Failed' }), { stateSince: now - 20 * MINUTE }),
    record(task({ id: 7, state: 'Started' }), { stateSince: now - 2 * MINUTE }),
    record(task({ id: 8, state: 'Succeeded' }), { stateSince: now - 3 * 60 * MINUTE }),
  ];
  const failedAlert = { kind: 'failed' as const, subject: '6', eventId: 'sales:failed:6', firedAt: now, lastNotifiedAt: now, repeats: 0 };
  return snapshot('sales', { lastSuccessAt: now, tasks, alerts: { 'stalled:4': stalledAlert(4, now), 'failed:6': failedAlert } });
}

async function exportedIds(cap: number, snapshots: Snapshot[], logs: unknown[] = []) {
  const metrics = createMetrics({
    snapshots: new MemoryView(snapshots),
    schedules: ['sales'],
    maxExportedTasks: cap,
    processMetrics: false,
    log: (level, msg, fields) => logs.push({ level, msg, fields }),
  });
  await metrics.settled();
  const body = await metrics.text();
  metrics.close();
  const samples = parseSamples(body);
  const ids = find(samples, 'superoffice_batch_task_state', { state: 'Started' }).map((s) => Number(s.labels.task_id));
  return { ids: ids.sort((a, b) => a - b), samples, body };
}

describe('the cap on tasks with per-task series', () => {
  it('keeps tasks with alerts, then running, then queued, then the most recently finished', async () => {
    // Candidates: 1-7 (8 finished three hours ago is past the retention anyway).
    assert.deepEqual((await exportedIds(100, [fleet()])).ids, [1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual((await exportedIds(2, [fleet()])).ids, [4, 6], 'alerting first');
    assert.deepEqual(
      (await exportedIds(3, [fleet()])).ids,
      [4, 5, 6],
      'then running: the more recent state change first, then the lower id',
    );
    assert.deepEqual((await exportedIds(4, [fleet()])).ids, [4, 5, 6, 7]);
    assert.deepEqual((await exportedIds(5, [fleet()])).ids, [3, 4, 5, 6, 7], 'then queued');
    assert.deepEqual((await exportedIds(6, [fleet()])).ids, [2, 3, 4, 5, 6, 7], 'then the most recently finished');
    assert.deepEqual((await exportedIds(0, [fleet()])).ids, [], '0: no per-task series at all');
  });

  it('chooses the same tasks whatever order they were first seen in (as on another replica)', async () => {
    const full = fleet();
    // This replica first saw 7 and then the rest: its rows are in another order than a fresh replica's.
    const early = { ...full, tasks: { '7': full.tasks['7']!, '1': full.tasks['1']! } };
    const view = new MemoryView([early]);
    const metrics = createMetrics({ snapshots: view, schedules: ['sales'], maxExportedTasks: 3, processMetrics: false });
    await metrics.settled();
    view.set(full);
    await metrics.settled();
    const ids = find(parseSamples(await metrics.text()), 'superoffice_batch_task_state', { state: 'Started' }).map((s) =>
      Number(s.labels.task_id),
    );
    metrics.close();
    assert.deepEqual(
      ids.sort((a, b) => a - b),
      (await exportedIds(3, [full])).ids,
    );
    assert.deepEqual(ids, [4, 5, 6], '5 and 7 changed state at the same instant: the lower id wins');
  });

  it('says how many were left out, keeps the other series complete, and passes promtool', async () => {
    const { samples, body } = await exportedIds(3, [fleet()]);
    assert.equal(sampleValue(samples, 'batchwatch_task_series_dropped'), 4);
    assert.equal(sampleValue(samples, 'batchwatch_task_series_exported'), 3);
    assert.equal(find(samples, 'superoffice_batch_task_progress_changed_timestamp_seconds').length, 3);
    assert.equal(sampleValue(samples, 'superoffice_batch_tasks', { associate_id: '12', state: 'Succeeded' }), 3, 'counts cover every task');
    assert.equal(sampleValue(samples, 'batchwatch_active_alerts', { schedule: 'sales', kind: 'stalled' }), 1);
    if (usePromtool) assert.equal(promtool(['check', 'metrics'], body).output, '');
    const uncapped = await exportedIds(100, [fleet()]);
    assert.equal(sampleValue(uncapped.samples, 'batchwatch_task_series_dropped'), 0);
  });

  it('logs once when the cap starts to bite and once when it stops, not on every update or scrape', async () => {
    const logs: { level: string; msg: string; fields: Record<string, unknown> }[] = [];
    const view = new MemoryView([fleet()]);
    const metrics = createMetrics({
      snapshots: view,
      schedules: ['sales'],
      maxExportedTasks: 3,
      processMetrics: false,
      log: (level, msg, fields) => logs.push({ level, msg, fields }),
    });
    await metrics.settled();
    for (let i = 0; i < 3; i++) {
      view.set({ ...fleet(), lastPollAt: now + i });
      await metrics.settled();
      await metrics.text();
    }
    assert.equal(logs.length, 1, JSON.stringify(logs));
    assert.equal(logs[0]?.level, 'warn');
    assert.match(logs[0]?.msg ?? '', /metrics\.maxExportedTasks/);
    assert.deepEqual(logs[0]?.fields, { qualifying: 7, 'metrics.maxExportedTasks': 3, dropped: 4 });
    view.set(snapshot('sales', { lastSuccessAt: now, tasks: [record(task({ id: 9, state: 'Started' }))] }));
    await metrics.settled();
    assert.equal(logs.length, 2);
    assert.equal(logs[1]?.level, 'info');
    metrics.close();
  });
});

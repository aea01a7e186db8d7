import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isTaskExported, snapshotSeries } from '../src/metrics/snapshot-series.ts';
import { record, snapshot, stalledAlert, task } from './metrics-fixtures.ts';

const now = 1_700_000_000_000;
const HOUR = 3_600_000;
const opts = { schedules: ['sales'], now, finishedRetentionMs: HOUR };

describe('snapshotSeries', () => {
  it('ignores snapshots of schedules that are not configured', () => {
    const series = snapshotSeries(
      [snapshot('removed', { lastSuccessAt: now, tasks: [record(task({ id: 1, state: 'Started' }))] })],
      opts,
    );
    assert.deepEqual(series.up, [{ labels: { schedule: 'sales' }, value: 0 }]);
    assert.deepEqual(series.taskState, []);
    assert.deepEqual(series.tasks, []);
  });

  it('marks a task stalled only for a stalled alert on that task id', () => {
    const stuck = { ...stalledAlert(2, now), kind: 'stuck' as const };
    const series = snapshotSeries(
      [
        snapshot('sales', {
          tasks: [record(task({ id: 1, state: 'Started' })), record(task({ id: 2, state: 'New' })), record(task({ id: 3, state: 'Started' }))],
          alerts: { a: stalledAlert(3, now), b: stuck, c: { ...stalledAlert(9, now), subject: 'sales', kind: 'superoffice-down' } },
        }),
      ],
      opts,
    );
    assert.deepEqual(
      series.taskStalled.map((s) => [s.labels.task_id, s.value]),
      [
        ['1', 0],
        ['2', 0],
        ['3', 1],
      ],
    );
  });

  it('exports a task id once even if two snapshots hold it', () => {
    const t = record(task({ id: 7, state: 'Started', progressPercent: 10 }));
    const series = snapshotSeries([snapshot('sales', { tasks: [t] }), snapshot('billing', { tasks: [t] })], {
      ...opts,
      schedules: ['sales', 'billing'],
    });
    assert.equal(series.taskProgressRatio.length, 1);
  });

  it('up is 0 after a failure even with an earlier success, and 0 before any success', () => {
    const series = snapshotSeries(
      [snapshot('a', { consecutiveFailures: 1, lastSuccessAt: now - 1000 }), snapshot('b', { lastPollAt: now })],
      { ...opts, schedules: ['a', 'b'] },
    );
    assert.deepEqual(
      series.up.map((s) => s.value),
      [0, 0],
    );
  });
});

describe('isTaskExported', () => {
  it('keeps running, queued and unknown-state tasks regardless of age', () => {
    for (const state of ['New', 'Aquired', 'Started', 'Unknown', 'Paused']) {
      assert.equal(isTaskExported(record(task({ id: 1, state }), { stateSince: now - 100 * HOUR }), now, HOUR), true, state);
    }
  });
  it('keeps finished tasks until the retention has passed since they finished', () => {
    for (const state of ['Succeeded', 'SucceededManualCleanup', 'Failed']) {
      assert.equal(isTaskExported(record(task({ id: 1, state }), { stateSince: now - HOUR + 1 }), now, HOUR), true, state);
      assert.equal(isTaskExported(record(task({ id: 1, state }), { stateSince: now - HOUR }), now, HOUR), false, state);
    }
  });
});

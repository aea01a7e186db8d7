import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Snapshot } from '../src/core/model.ts';
import { isTaskExported, SCHEDULE_FAMILIES, TASK_FAMILIES, taskLabels } from '../src/metrics/snapshot-series.ts';
import { TaskIndex } from '../src/metrics/task-index.ts';
import { record, snapshot, stalledAlert, task } from './metrics-fixtures.ts';

const now = 1_700_000_000_000;
const HOUR = 3_600_000;

function indexOf(schedules: string[], snapshots: Snapshot[], maxExportedTasks = 1000) {
  const index = new TaskIndex({ schedules, finishedRetentionMs: HOUR, maxExportedTasks, now: () => now });
  for (const s of snapshots) index.update(s.schedule, s);
  return index;
}

const family = (name: string) => {
  const found = TASK_FAMILIES.find((f) => f.name === name) ?? SCHEDULE_FAMILIES.find((f) => f.name === name);
  assert.ok(found, name);
  return found;
};

describe('the task index behind the per-task series', () => {
  it('ignores snapshots of schedules that are not configured', async () => {
    const index = indexOf(['sales'], [snapshot('removed', { lastSuccessAt: now, tasks: [record(task({ id: 1, state: 'Started' }))] })]);
    await index.settled();
    assert.deepEqual(index.exported(now), []);
    assert.equal(index.counts().size, 0);
    index.stop();
  });

  it('marks a task stalled only for a stalled alert on that task id', async () => {
    const stuck = { ...stalledAlert(2, now), kind: 'stuck' as const };
    const index = indexOf(
      ['sales'],
      [
        snapshot('sales', {
          tasks: [
            record(task({ id: 1, state: 'Started' })),
            record(task({ id: 2, state: 'New' })),
            record(task({ id: 3, state: 'Started' })),
          ],
          alerts: { a: stalledAlert(3, now), b: stuck, c: { ...stalledAlert(9, now), subject: 'sales', kind: 'superoffice-down' } },
        }),
      ],
    );
    await index.settled();
    const stalled = TASK_FAMILIES.findIndex((f) => f.name === 'superoffice_batch_task_stalled');
    assert.deepEqual(
      index
        .exported(now)
        .map((row) => [row.id, row.text[stalled]!.endsWith(' 1\n') ? 1 : 0])
        .sort(),
      [
        ['1', 0],
        ['2', 0],
        ['3', 1],
      ],
    );
    index.stop();
  });

  it('exports a task id once even if two snapshots hold it (the schedule listed first wins)', async () => {
    const t = record(task({ id: 7, state: 'Started', progressPercent: 10 }));
    const index = indexOf(['sales', 'billing'], [snapshot('billing', { tasks: [t] }), snapshot('sales', { tasks: [t] })]);
    await index.settled();
    assert.equal(index.exported(now).length, 1);
    index.stop();
  });

  it('rebuilds only rows whose record changed, and drops rows of vanished tasks', async () => {
    const kept = record(task({ id: 1, state: 'Started', progressPercent: 10 }));
    const moved = record(task({ id: 2, state: 'Started', progressPercent: 10 }));
    const index = indexOf(['sales'], [snapshot('sales', { tasks: [kept, moved, record(task({ id: 3, state: 'New' }))] })]);
    await index.settled();
    const before = new Map(index.exported(now).map((row) => [row.id, row]));
    index.update('sales', snapshot('sales', { tasks: [kept, record(task({ id: 2, state: 'Started', progressPercent: 20 }))] }));
    await index.settled();
    const after = new Map(index.exported(now).map((row) => [row.id, row]));
    assert.equal(after.get('1'), before.get('1'), 'unchanged record: the same row, lines not made again');
    assert.notEqual(after.get('2'), before.get('2'));
    assert.match(
      after.get('2')?.text[1] ?? '',
      /^superoffice_batch_task_progress_ratio\{associate_id="12",task_id="2",task_name="Task 2"\} 0\.2\n$/,
    );
    assert.equal(after.has('3'), false);
    index.stop();
  });

  it('makes lines only for exported tasks, and drops them when a task is left out by the cap', async () => {
    const running = (id: number, since: number) => record(task({ id, state: 'Started' }), { stateSince: since });
    const index = indexOf(['sales'], [snapshot('sales', { tasks: [running(1, now - 1000), running(2, now - 2000)] })], 1);
    await index.settled();
    const rows = (index as unknown as { bySchedule: Map<string, { rows: Map<string, { text: unknown }> }> }).bySchedule.get('sales')!.rows;
    assert.deepEqual(
      index.exported(now).map((r) => r.id),
      ['1'],
    );
    assert.notEqual(rows.get('1')?.text, null);
    assert.equal(rows.get('2')?.text, null, 'no text for a task the cap leaves out');
    index.update('sales', snapshot('sales', { tasks: [running(1, now - 3000), running(2, now - 2000)] }));
    await index.settled();
    assert.deepEqual(
      index.exported(now).map((r) => r.id),
      ['2'],
    );
    assert.equal(rows.get('1')?.text, null, 'lines dropped once it is no longer exported');
    index.stop();
  });

  it('counts tasks per associate and state, every known state reported', async () => {
    const index = indexOf(
      ['sales'],
      [
        snapshot('sales', {
          tasks: [record(task({ id: 1, state: 'Started', associateId: 5 })), record(task({ id: 2, state: 'Paused', associateId: 5 }))],
        }),
      ],
    );
    await index.settled();
    const counts = index.counts().get('5');
    assert.equal(counts?.get('Started'), 1);
    assert.equal(counts?.get('Paused'), 1);
    assert.equal(counts?.get('Failed'), 0);
    index.stop();
  });
});

describe('schedule-level families', () => {
  it('up is 0 after a failure even with an earlier success, and 0 before any success or snapshot', () => {
    const up = family('batchwatch_superoffice_up') as (typeof SCHEDULE_FAMILIES)[number];
    assert.deepEqual(up.samples(snapshot('a', { consecutiveFailures: 1, lastSuccessAt: now - 1000 })), [{ value: 0 }]);
    assert.deepEqual(up.samples(snapshot('b', { lastPollAt: now })), [{ value: 0 }]);
    assert.deepEqual(up.samples(undefined), [{ value: 0 }]);
    assert.deepEqual(up.samples(snapshot('c', { lastSuccessAt: now })), [{ value: 1 }]);
  });

  it('leave out timestamps a schedule does not have yet', () => {
    const last = family('batchwatch_last_successful_poll_timestamp_seconds') as (typeof SCHEDULE_FAMILIES)[number];
    assert.deepEqual(last.samples(snapshot('a')), []);
    assert.deepEqual(last.samples(snapshot('a', { lastSuccessAt: 1500 })), [{ value: 1.5 }]);
  });
});

describe('per-task labels', () => {
  it('escape what SuperOffice sends in a task name', () => {
    assert.equal(
      taskLabels(record(task({ id: 1, name: 'a "b" \\ c\nd', associateId: 3 }))),
      'associate_id="3",task_id="1",task_name="a \\"b\\" \\\\ c\\nd"',
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

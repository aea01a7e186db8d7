/** The wait before a big schedule's per-task series follow a new snapshot (the poll's mail goes first). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Snapshot } from '../src/core/model.ts';
import { LARGE_INDEX_ROWS, TaskIndex } from '../src/metrics/task-index.ts';
import { record, snapshot, task } from './metrics-fixtures.ts';

const now = Date.now();

function fleet(size: number, stateOfFirst: 'Started' | 'Failed'): Snapshot {
  const tasks = Array.from({ length: size }, (_, i) =>
    record(task({ id: i + 1, state: i === 0 ? stateOfFirst : 'Started' }), { stateSince: now }),
  );
  return snapshot('sales', { lastSuccessAt: now, tasks });
}

function stateOfFirst(index: TaskIndex): string | undefined {
  return index.exported(now).find((row) => row.id === '1')?.record.task.state;
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('per-task series of a new snapshot', () => {
  it('of a big schedule: the previous series are served during the wait, the new ones after it', async () => {
    const index = new TaskIndex({
      schedules: ['sales'],
      finishedRetentionMs: 3_600_000,
      maxExportedTasks: LARGE_INDEX_ROWS,
      now: () => now,
      startDelayMs: 2000,
    });
    // The first snapshot fills an empty index: no wait.
    index.update('sales', fleet(LARGE_INDEX_ROWS, 'Started'));
    await index.settled();
    assert.equal(stateOfFirst(index), 'Started');
    index.update('sales', fleet(LARGE_INDEX_ROWS, 'Failed'));
    await nextTurn();
    await nextTurn();
    assert.equal(stateOfFirst(index), 'Started', 'still the previous snapshot while the wait lasts');
    await index.settled();
    assert.equal(stateOfFirst(index), 'Failed');
    index.stop();
  });

  it('of a small schedule: no wait', async () => {
    const index = new TaskIndex({
      schedules: ['sales'],
      finishedRetentionMs: 3_600_000,
      maxExportedTasks: 100,
      now: () => now,
      startDelayMs: 60_000,
    });
    index.update('sales', fleet(10, 'Started'));
    await index.settled();
    index.update('sales', fleet(10, 'Failed'));
    await index.settled();
    assert.equal(stateOfFirst(index), 'Failed');
    index.stop();
  });

  it('stopped during the wait: no rebuild runs, and later snapshots are ignored', async () => {
    const index = new TaskIndex({
      schedules: ['sales'],
      finishedRetentionMs: 3_600_000,
      maxExportedTasks: LARGE_INDEX_ROWS,
      now: () => now,
      startDelayMs: 60_000,
    });
    index.update('sales', fleet(LARGE_INDEX_ROWS, 'Started'));
    await index.settled();
    index.update('sales', fleet(LARGE_INDEX_ROWS, 'Failed'));
    await nextTurn();
    index.stop();
    await index.settled(); // the wait ended by stop(), not after 60 s
    assert.equal(stateOfFirst(index), 'Started', 'no rebuild after stop');
    index.update('sales', fleet(10, 'Failed'));
    await index.settled();
    assert.equal(stateOfFirst(index), 'Started', 'a snapshot after stop is not applied');
  });
});

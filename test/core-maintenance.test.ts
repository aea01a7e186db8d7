import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluate } from '../src/core/evaluate.ts';
import { emptySnapshot, type BatchTaskInfo, type PollOutcome, type Rules } from '../src/core/model.ts';
import { runSteps, type Step } from './helpers/core-sequence.ts';
import { HOUR, MINUTE, T0, ok, rules, task, unreachable } from './helpers/tasks.ts';

/**
 * Planned maintenance (the tenant status said State is not Running while the poll failed) is not an
 * outage. Table-driven like core-evaluate.test.ts; `at` is minutes after T0, default rules
 * (unreachableAfter 3, stallAfter 15m, queuedTimeout 10m, repeatInterval 4h).
 */

const at = (minutes: number) => T0 + minutes * MINUTE;
const run1 = { startCount: 1, lastStarted: at(0) };
const started = (id: number, progressPercent: number, more: Partial<BatchTaskInfo> = {}) =>
  task({ id, state: 'Started', progressPercent, ...run1, ...more });
const failed = (id: number) => task({ id, state: 'Failed', progressPercent: 60, ...run1 });
const fresh = (id: number) => task({ id, state: 'New', startCount: 0 });

function maintenance(state = 'OfflineMaintenance'): PollOutcome {
  return { ok: false, error: { kind: 'transport', message: 'HTTP 503 from SuperOffice' }, maintenance: { state } };
}

interface Case {
  name: string;
  rules?: Partial<Rules>;
  steps: Step[];
  /** Snapshot.maintenance after each step (null: none), when the case checks it. */
  maintenanceAfter?: ({ state: string; since: number } | null)[];
  /** Snapshot.consecutiveFailures after each step, when the case checks it. */
  failuresAfter?: number[];
}

function table(cases: Case[]): void {
  for (const c of cases) {
    it(c.name, () => {
      const run = runSteps(rules(c.rules), c.steps);
      const after = run.snapshots.slice(1);
      if (c.maintenanceAfter)
        assert.deepEqual(
          after.map((s) => s.maintenance),
          c.maintenanceAfter,
        );
      if (c.failuresAfter)
        assert.deepEqual(
          after.map((s) => s.consecutiveFailures),
          c.failuresAfter,
        );
    });
  }
}

describe('maintenance: failed polls that are not an outage', () => {
  table([
    {
      name: 'any number of maintenance polls fires no superoffice-down',
      steps: [
        { at: 0, poll: ok(), expect: [] },
        ...Array.from({ length: 20 }, (_, i) => ({ at: 1 + i, poll: maintenance(), expect: [] })),
        { at: 30, poll: ok(), expect: [] },
      ],
      failuresAfter: [0, ...Array.from({ length: 20 }, () => 0), 0],
    },
    {
      name: 'Snapshot.maintenance holds the state and the first failed poll; a success clears it',
      steps: [
        { at: 0, poll: ok(), expect: [] },
        { at: 1, poll: maintenance(), expect: [] },
        { at: 2, poll: maintenance(), expect: [] },
        { at: 3, poll: maintenance('Suspended'), expect: [] },
        { at: 4, poll: ok(), expect: [] },
      ],
      maintenanceAfter: [
        null,
        { state: 'OfflineMaintenance', since: at(1) },
        { state: 'OfflineMaintenance', since: at(1) },
        { state: 'Suspended', since: at(1) },
        null,
      ],
    },
    {
      name: 'back to Running while still failing counts towards superoffice-down as usual',
      steps: [
        { at: 0, poll: ok(), expect: [] },
        { at: 1, poll: maintenance(), expect: [] },
        { at: 2, poll: maintenance(), expect: [] },
        { at: 3, poll: maintenance(), expect: [] },
        { at: 4, poll: unreachable(), expect: [] },
        { at: 5, poll: unreachable(), expect: [] },
        { at: 6, poll: unreachable(), expect: ['superoffice-down sales'] },
        { at: 7, poll: ok(), expect: ['resolved superoffice-down sales'] },
      ],
      maintenanceAfter: [
        null,
        { state: 'OfflineMaintenance', since: at(1) },
        { state: 'OfflineMaintenance', since: at(1) },
        { state: 'OfflineMaintenance', since: at(1) },
        null,
        null,
        null,
        null,
      ],
      failuresAfter: [0, 0, 0, 0, 1, 2, 3, 0],
    },
    {
      name: 'failures before a maintenance and after it add up; the maintenance polls are skipped',
      steps: [
        { at: 0, poll: ok(), expect: [] },
        { at: 1, poll: unreachable(), expect: [] },
        { at: 2, poll: unreachable(), expect: [] },
        { at: 3, poll: maintenance(), expect: [] },
        { at: 60, poll: maintenance(), expect: [] },
        { at: 61, poll: unreachable(), expect: ['superoffice-down sales'] },
      ],
      failuresAfter: [0, 1, 2, 2, 2, 3],
    },
    {
      name: 'an active superoffice-down is neither resolved nor reminded during maintenance',
      rules: { repeatInterval: HOUR },
      steps: [
        { at: 0, poll: ok(), expect: [] },
        { at: 1, poll: unreachable(), expect: [] },
        { at: 2, poll: unreachable(), expect: [] },
        { at: 3, poll: unreachable(), expect: ['superoffice-down sales'] },
        { at: 4, poll: maintenance(), expect: [] },
        { at: 200, poll: maintenance(), expect: [] },
        // Back to Running and still failing: the alert is still active, its reminder is due.
        { at: 201, poll: unreachable(), expect: ['superoffice-down sales (repeat)'] },
        { at: 202, poll: ok(), expect: ['resolved superoffice-down sales'] },
      ],
    },
    {
      name: 'an active superoffice-down resolves when a poll succeeds after the maintenance',
      steps: [
        { at: 1, poll: unreachable(), expect: [] },
        { at: 2, poll: unreachable(), expect: [] },
        { at: 3, poll: unreachable(), expect: ['superoffice-down sales'] },
        { at: 4, poll: maintenance(), expect: [] },
        { at: 5, poll: ok(), expect: ['resolved superoffice-down sales'] },
      ],
    },
    {
      name: 'a failure outside maintenance clears Snapshot.maintenance',
      steps: [
        { at: 0, poll: ok(), expect: [] },
        { at: 1, poll: maintenance(), expect: [] },
        { at: 2, poll: unreachable(), expect: [] },
        { at: 3, poll: maintenance('MigrationPending'), expect: [] },
      ],
      maintenanceAfter: [null, { state: 'OfflineMaintenance', since: at(1) }, null, { state: 'MigrationPending', since: at(3) }],
    },
    {
      name: 'unreachableAfter 1: maintenance from the very first poll fires nothing',
      rules: { unreachableAfter: 1 },
      steps: [
        { at: 0, poll: maintenance(), expect: [] },
        { at: 1, poll: maintenance(), expect: [] },
        { at: 2, poll: unreachable(), expect: ['superoffice-down sales'] },
      ],
    },
  ]);
});

describe('maintenance: tasks are kept, and never stall or get stuck because batchwatch could not see them', () => {
  table([
    {
      name: 'task alerts and records are kept; no task event during maintenance',
      steps: [
        { at: 0, poll: ok(started(1, 10)), expect: [] },
        { at: 1, poll: ok(failed(1)), expect: ['failed 1'] },
        { at: 2, poll: maintenance(), expect: [] },
        { at: 3, poll: maintenance(), expect: [] },
        { at: 4, poll: ok(failed(1)), expect: [] },
      ],
    },
    {
      name: 'time spent in maintenance does not count towards stallAfter',
      steps: [
        ...[0, 1, 2, 3, 4].map((m) => ({ at: m, poll: ok(started(1, 40)), expect: [] })),
        ...Array.from({ length: 60 }, (_, i) => ({ at: 5 + i, poll: maintenance(), expect: [] })),
        { at: 65, poll: ok(started(1, 40)), expect: [] },
        // 4 minutes observed before the maintenance + 11 after = 15.
        { at: 75, poll: ok(started(1, 40)), expect: [] },
        { at: 76, poll: ok(started(1, 40)), expect: ['stalled 1'] },
      ],
    },
    {
      name: 'time spent in maintenance does not count towards queuedTimeout',
      steps: [
        { at: 0, poll: ok(fresh(1)), expect: [] },
        { at: 5, poll: ok(fresh(1)), expect: [] },
        { at: 6, poll: maintenance(), expect: [] },
        { at: 120, poll: maintenance(), expect: [] },
        { at: 121, poll: ok(fresh(1)), expect: [] },
        { at: 125, poll: ok(fresh(1)), expect: [] },
        { at: 126, poll: ok(fresh(1)), expect: ['stuck 1'] },
      ],
    },
    {
      name: 'an outage followed by a maintenance: neither counts towards stallAfter',
      rules: { unreachableAfter: 100 },
      steps: [
        ...[0, 1, 2, 3, 4].map((m) => ({ at: m, poll: ok(started(1, 40)), expect: [] })),
        { at: 10, poll: unreachable(), expect: [] },
        { at: 20, poll: maintenance(), expect: [] },
        { at: 50, poll: ok(started(1, 40)), expect: [] },
        { at: 60, poll: ok(started(1, 40)), expect: [] },
        { at: 61, poll: ok(started(1, 40)), expect: ['stalled 1'] },
      ],
    },
    {
      name: 'a stall already firing keeps firing through maintenance; its reminder waits for a successful poll',
      rules: { repeatInterval: HOUR },
      steps: [
        { at: 0, poll: ok(started(1, 40)), expect: [] },
        { at: 15, poll: ok(started(1, 40)), expect: ['stalled 1'] },
        { at: 20, poll: maintenance(), expect: [] },
        { at: 100, poll: maintenance(), expect: [] },
        { at: 101, poll: ok(started(1, 40)), expect: ['stalled 1 (repeat)'] },
        { at: 102, poll: ok(started(1, 41)), expect: ['resolved stalled 1'] },
      ],
    },
  ]);
});

describe('maintenance: evaluate stays pure', () => {
  it('does not modify the previous snapshot and keeps its version', () => {
    const prev = { ...emptySnapshot('sales'), version: 7, lastSuccessAt: at(0), tasks: {} };
    const frozen = structuredClone(prev);
    const { next, events } = evaluate(prev, maintenance(), at(1), rules());
    assert.deepEqual(prev, frozen);
    assert.equal(next.version, 7);
    assert.deepEqual(events, []);
    assert.equal(next.lastPollAt, at(1));
    assert.deepEqual(next.lastError, { kind: 'transport', message: 'HTTP 503 from SuperOffice' });
    assert.equal(next.lastSuccessAt, at(0));
  });
});

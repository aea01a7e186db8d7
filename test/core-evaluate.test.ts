import { describe, it } from 'node:test';
import type { BatchTaskInfo, Rules } from '../src/core/model.ts';
import { runSteps, type Step } from './helpers/core-sequence.ts';
import { HOUR, MINUTE, T0, ok, rules, task, unreachable, type TaskInput } from './helpers/tasks.ts';

/**
 * The event table of the product contract, row by row, as scripted poll sequences.
 * Default rules: stallAfter 15m, queuedTimeout 10m, firstSeenWindow 1h, unreachableAfter 3,
 * repeatInterval 4h, sendResolved. `at` is minutes after T0.
 */

const at = (minutes: number) => T0 + minutes * MINUTE;
const run1 = { startCount: 1, lastStarted: at(0) };
const run2 = { startCount: 2, lastStarted: at(30) };
type More = Omit<Partial<BatchTaskInfo>, 'id'>;

const fresh = (id: number, more: More = {}) => task({ id, state: 'New', startCount: 0, ...more });
const started = (id: number, progressPercent: number | null, more: More = {}) =>
  task({ id, state: 'Started', progressPercent, ...run1, ...more } satisfies TaskInput);
const failed = (id: number, more: More = {}) => task({ id, state: 'Failed', progressPercent: 60, ...run1, ...more });
const succeeded = (id: number, more: More = {}) => task({ id, state: 'Succeeded', progressPercent: 100, ...run1, ...more });
const inState = (id: number, state: string, more: More = {}) => task({ id, state, progressPercent: 40, ...run1, ...more });

interface Case {
  name: string;
  rules?: Partial<Rules>;
  steps: Step[];
}

function table(cases: Case[]): void {
  for (const c of cases) it(c.name, () => void runSteps(rules(c.rules), c.steps));
}

describe('failed', () => {
  table([
    {
      name: 'Started -> Failed fires once',
      steps: [
        { at: 0, poll: ok(started(1, 10)), expect: [] },
        { at: 1, poll: ok(failed(1)), expect: ['failed 1'] },
        { at: 2, poll: ok(failed(1)), expect: [] },
        { at: 300, poll: ok(failed(1)), expect: [] },
      ],
    },
    {
      name: 'New -> Failed fires',
      steps: [
        { at: 0, poll: ok(fresh(1)), expect: [] },
        { at: 1, poll: ok(failed(1)), expect: ['failed 1'] },
      ],
    },
    {
      name: 'Unknown and unknown strings -> Failed fire',
      steps: [
        { at: 0, poll: ok(inState(1, 'Unknown'), inState(2, 'Paused')), expect: [] },
        { at: 1, poll: ok(failed(1), failed(2)), expect: ['failed 1', 'failed 2'] },
      ],
    },
    {
      name: 'resolves when a later run succeeds, not while it runs',
      steps: [
        { at: 0, poll: ok(started(1, 10)), expect: [] },
        { at: 1, poll: ok(failed(1)), expect: ['failed 1'] },
        { at: 30, poll: ok(started(1, 0, run2)), expect: [] },
        { at: 31, poll: ok(succeeded(1, run2)), expect: ['resolved failed 1'] },
        { at: 32, poll: ok(succeeded(1, run2)), expect: [] },
      ],
    },
    {
      name: 'SucceededManualCleanup counts as success',
      steps: [
        { at: 0, poll: ok(started(1, 10)), expect: [] },
        { at: 1, poll: ok(failed(1)), expect: ['failed 1'] },
        { at: 30, poll: ok(inState(1, 'SucceededManualCleanup', run2)), expect: ['resolved failed 1'] },
      ],
    },
    {
      name: 'Failed -> Started -> Failed (new run) fires a second failure and no resolution',
      steps: [
        { at: 0, poll: ok(started(1, 10)), expect: [] },
        { at: 1, poll: ok(failed(1)), expect: ['failed 1'] },
        { at: 30, poll: ok(started(1, 10, run2)), expect: [] },
        { at: 31, poll: ok(failed(1, run2)), expect: ['failed 1'] },
        { at: 32, poll: ok(succeeded(1, { startCount: 3, lastStarted: at(32) })), expect: ['resolved failed 1'] },
      ],
    },
    {
      name: 'Failed -> Started -> Failed with the same run markers still fires again',
      steps: [
        { at: 0, poll: ok(started(1, 10)), expect: [] },
        { at: 1, poll: ok(failed(1)), expect: ['failed 1'] },
        { at: 2, poll: ok(started(1, 10)), expect: [] },
        { at: 3, poll: ok(failed(1)), expect: ['failed 1'] },
        { at: 4, poll: ok(inState(1, 'Unknown')), expect: [] },
        { at: 5, poll: ok(failed(1)), expect: ['failed 1'] },
      ],
    },
    {
      name: 'a restart seen only through StartCount fires again',
      steps: [
        { at: 0, poll: ok(started(1, 10)), expect: [] },
        { at: 1, poll: ok(failed(1)), expect: ['failed 1'] },
        { at: 40, poll: ok(failed(1, { startCount: 2 })), expect: ['failed 1'] },
      ],
    },
    {
      name: 'a restart seen only through LastStarted fires again',
      steps: [
        { at: 0, poll: ok(started(1, 10)), expect: [] },
        { at: 1, poll: ok(failed(1)), expect: ['failed 1'] },
        { at: 40, poll: ok(failed(1, { lastStarted: at(39) })), expect: ['failed 1'] },
      ],
    },
    {
      name: 'never repeated by repeatInterval',
      rules: { repeatInterval: HOUR },
      steps: [
        { at: 0, poll: ok(started(1, 10)), expect: [] },
        { at: 1, poll: ok(failed(1)), expect: ['failed 1'] },
        { at: 61, poll: ok(failed(1)), expect: [] },
        { at: 600, poll: ok(failed(1)), expect: [] },
      ],
    },
    {
      name: 'a vanished failed task is dropped without a resolution',
      steps: [
        { at: 0, poll: ok(started(1, 10)), expect: [] },
        { at: 1, poll: ok(failed(1)), expect: ['failed 1'] },
        { at: 2, poll: ok(), expect: [] },
        { at: 3, poll: ok(), expect: [] },
      ],
    },
    {
      name: 'a Failed task staying Failed across state-less polls does not fire on Failed -> Failed',
      steps: [
        { at: 0, poll: ok(failed(1, { lastStarted: at(-600) })), expect: [] },
        { at: 1, poll: ok(failed(1, { lastStarted: at(-600) })), expect: [] },
      ],
    },
  ]);
});

describe('failed: first sight', () => {
  table([
    { name: 'first poll, LastStarted 2h ago: no alert', steps: [{ at: 0, poll: ok(failed(1, { lastStarted: at(-120) })), expect: [] }] },
    {
      name: 'first poll, LastStarted 10m ago: alert',
      steps: [{ at: 0, poll: ok(failed(1, { lastStarted: at(-10) })), expect: ['failed 1'] }],
    },
    { name: 'exactly firstSeenWindow ago: alert', steps: [{ at: 0, poll: ok(failed(1, { lastStarted: at(-60) })), expect: ['failed 1'] }] },
    { name: 'just outside firstSeenWindow: no alert', steps: [{ at: 0, poll: ok(failed(1, { lastStarted: at(-61) })), expect: [] }] },
    {
      name: 'no LastStarted: Created decides (recent)',
      steps: [{ at: 0, poll: ok(failed(1, { lastStarted: null, created: at(-5) })), expect: ['failed 1'] }],
    },
    {
      name: 'no LastStarted: Created decides (old)',
      steps: [{ at: 0, poll: ok(failed(1, { lastStarted: null, created: at(-500) })), expect: [] }],
    },
    {
      name: 'LastStarted wins over a recent Created',
      steps: [{ at: 0, poll: ok(failed(1, { lastStarted: at(-500), created: at(-5) })), expect: [] }],
    },
    {
      name: 'neither LastStarted nor Created: no alert',
      steps: [{ at: 0, poll: ok(failed(1, { lastStarted: null, created: null })), expect: [] }],
    },
    {
      name: 'LastStarted in the future (clock skew) counts as recent',
      steps: [{ at: 0, poll: ok(failed(1, { lastStarted: at(7) })), expect: ['failed 1'] }],
    },
    {
      name: 'firstSeenWindow 0 never alerts on first sight',
      rules: { firstSeenWindow: 0 },
      steps: [{ at: 0, poll: ok(failed(1, { lastStarted: at(0) })), expect: [] }],
    },
    {
      name: 'a task first seen in a later poll follows the same rule',
      steps: [
        { at: 0, poll: ok(), expect: [] },
        { at: 5, poll: ok(failed(1, { lastStarted: at(-200) }), failed(2, { lastStarted: at(4) })), expect: ['failed 2'] },
      ],
    },
    {
      name: 'an old failure, then a new run that fails, alerts',
      steps: [
        { at: 0, poll: ok(failed(1, { lastStarted: at(-200) })), expect: [] },
        { at: 5, poll: ok(failed(1, run2)), expect: ['failed 1'] },
      ],
    },
  ]);
});

describe('stalled', () => {
  table([
    {
      name: 'Started with unchanged progress for stallAfter',
      steps: [
        { at: 0, poll: ok(started(1, 40)), expect: [] },
        { at: 10, poll: ok(started(1, 40)), expect: [] },
        { at: 14, poll: ok(started(1, 40)), expect: [] },
        { at: 15, poll: ok(started(1, 40)), expect: ['stalled 1'] },
        { at: 16, poll: ok(started(1, 40)), expect: [] },
      ],
    },
    {
      name: 'Aquired stalls too',
      steps: [
        { at: 0, poll: ok(inState(1, 'Aquired')), expect: [] },
        { at: 15, poll: ok(inState(1, 'Aquired')), expect: ['stalled 1'] },
      ],
    },
    {
      name: 'progress moving forward restarts the clock',
      steps: [
        { at: 0, poll: ok(started(1, 40)), expect: [] },
        { at: 14, poll: ok(started(1, 41)), expect: [] },
        { at: 28, poll: ok(started(1, 41)), expect: [] },
        { at: 29, poll: ok(started(1, 41)), expect: ['stalled 1'] },
      ],
    },
    {
      name: 'progress going backwards is a change',
      steps: [
        { at: 0, poll: ok(started(1, 50)), expect: [] },
        { at: 14, poll: ok(started(1, 40)), expect: [] },
        { at: 28, poll: ok(started(1, 40)), expect: [] },
        { at: 29, poll: ok(started(1, 40)), expect: ['stalled 1'] },
      ],
    },
    {
      name: 'a ProgressDescription change alone is a change',
      steps: [
        { at: 0, poll: ok(started(1, 40, { progressDescription: 'Reading' })), expect: [] },
        { at: 14, poll: ok(started(1, 40, { progressDescription: 'Writing' })), expect: [] },
        { at: 28, poll: ok(started(1, 40, { progressDescription: 'Writing' })), expect: [] },
        { at: 29, poll: ok(started(1, 40, { progressDescription: 'Writing' })), expect: ['stalled 1'] },
      ],
    },
    {
      name: 'no ProgressPercent at all, unchanged, stalls like any other value',
      steps: [
        { at: 0, poll: ok(started(1, null)), expect: [] },
        { at: 15, poll: ok(started(1, null)), expect: ['stalled 1'] },
      ],
    },
    {
      name: 'Aquired -> Started (same progress) re-enters a running state and restarts the clock',
      steps: [
        { at: 0, poll: ok(inState(1, 'Aquired', { progressPercent: 0 })), expect: [] },
        { at: 10, poll: ok(started(1, 0)), expect: [] },
        { at: 24, poll: ok(started(1, 0)), expect: [] },
        { at: 25, poll: ok(started(1, 0)), expect: ['stalled 1'] },
      ],
    },
    {
      name: 'progress moving resolves, and a new stall is a new episode',
      steps: [
        { at: 0, poll: ok(started(1, 40)), expect: [] },
        { at: 15, poll: ok(started(1, 40)), expect: ['stalled 1'] },
        { at: 20, poll: ok(started(1, 45)), expect: ['resolved stalled 1'] },
        { at: 34, poll: ok(started(1, 45)), expect: [] },
        { at: 35, poll: ok(started(1, 45)), expect: ['stalled 1'] },
      ],
    },
    {
      name: 'success resolves',
      steps: [
        { at: 0, poll: ok(started(1, 40)), expect: [] },
        { at: 15, poll: ok(started(1, 40)), expect: ['stalled 1'] },
        { at: 20, poll: ok(succeeded(1)), expect: ['resolved stalled 1'] },
      ],
    },
    {
      name: 'failure fires failed and resolves the stall',
      steps: [
        { at: 0, poll: ok(started(1, 40)), expect: [] },
        { at: 15, poll: ok(started(1, 40)), expect: ['stalled 1'] },
        { at: 20, poll: ok(failed(1)), expect: ['failed 1', 'resolved stalled 1'] },
      ],
    },
    {
      name: 'vanishing resolves',
      steps: [
        { at: 0, poll: ok(started(1, 40)), expect: [] },
        { at: 15, poll: ok(started(1, 40)), expect: ['stalled 1'] },
        { at: 20, poll: ok(), expect: ['resolved stalled 1'] },
        { at: 21, poll: ok(), expect: [] },
      ],
    },
    {
      name: 'a new run (same progress) resolves',
      steps: [
        { at: 0, poll: ok(started(1, 40)), expect: [] },
        { at: 15, poll: ok(started(1, 40)), expect: ['stalled 1'] },
        { at: 30, poll: ok(started(1, 40, run2)), expect: ['resolved stalled 1'] },
        { at: 45, poll: ok(started(1, 40, run2)), expect: ['stalled 1'] },
      ],
    },
    {
      name: 'leaving for an unknown state resolves',
      steps: [
        { at: 0, poll: ok(started(1, 40)), expect: [] },
        { at: 15, poll: ok(started(1, 40)), expect: ['stalled 1'] },
        { at: 16, poll: ok(inState(1, 'Paused')), expect: ['resolved stalled 1'] },
      ],
    },
    {
      name: 'Unknown, Paused, New-less finished states never stall',
      steps: [
        { at: 0, poll: ok(inState(1, 'Unknown'), inState(2, 'Paused'), succeeded(3), failed(4, { lastStarted: at(-600) })), expect: [] },
        { at: 600, poll: ok(inState(1, 'Unknown'), inState(2, 'Paused'), succeeded(3), failed(4, { lastStarted: at(-600) })), expect: [] },
      ],
    },
    {
      name: 'stallAfter 0 disables',
      rules: { stallAfter: 0 },
      steps: [
        { at: 0, poll: ok(started(1, 40)), expect: [] },
        { at: 600, poll: ok(started(1, 40)), expect: [] },
      ],
    },
  ]);
});

describe('stuck', () => {
  table([
    {
      name: 'New for queuedTimeout since first seen',
      steps: [
        { at: 0, poll: ok(fresh(1)), expect: [] },
        { at: 9, poll: ok(fresh(1)), expect: [] },
        { at: 10, poll: ok(fresh(1)), expect: ['stuck 1'] },
        { at: 11, poll: ok(fresh(1)), expect: [] },
      ],
    },
    {
      name: 'counted from first sight, not from Created',
      steps: [
        { at: 5, poll: ok(fresh(1, { created: at(-600) })), expect: [] },
        { at: 14, poll: ok(fresh(1, { created: at(-600) })), expect: [] },
        { at: 15, poll: ok(fresh(1, { created: at(-600) })), expect: ['stuck 1'] },
      ],
    },
    {
      name: 'leaving New resolves',
      steps: [
        { at: 0, poll: ok(fresh(1)), expect: [] },
        { at: 10, poll: ok(fresh(1)), expect: ['stuck 1'] },
        { at: 12, poll: ok(started(1, 0)), expect: ['resolved stuck 1'] },
      ],
    },
    {
      name: 'failing straight from New fires failed and resolves stuck',
      steps: [
        { at: 0, poll: ok(fresh(1)), expect: [] },
        { at: 10, poll: ok(fresh(1)), expect: ['stuck 1'] },
        { at: 12, poll: ok(failed(1)), expect: ['failed 1', 'resolved stuck 1'] },
      ],
    },
    {
      name: 'vanishing resolves',
      steps: [
        { at: 0, poll: ok(fresh(1)), expect: [] },
        { at: 10, poll: ok(fresh(1)), expect: ['stuck 1'] },
        { at: 12, poll: ok(), expect: ['resolved stuck 1'] },
      ],
    },
    {
      name: 'back to New for another run counts from the re-entry',
      steps: [
        { at: 0, poll: ok(fresh(1)), expect: [] },
        { at: 5, poll: ok(started(1, 0)), expect: [] },
        { at: 8, poll: ok(fresh(1, { startCount: 1 })), expect: [] },
        { at: 17, poll: ok(fresh(1, { startCount: 1 })), expect: [] },
        { at: 18, poll: ok(fresh(1, { startCount: 1 })), expect: ['stuck 1'] },
      ],
    },
    {
      name: 'queuedTimeout 0 disables',
      rules: { queuedTimeout: 0 },
      steps: [
        { at: 0, poll: ok(fresh(1)), expect: [] },
        { at: 600, poll: ok(fresh(1)), expect: [] },
      ],
    },
  ]);
});

describe('superoffice-down', () => {
  table([
    {
      name: 'unreachableAfter 3: fires on the third consecutive failure, resolves on the next success',
      steps: [
        { at: 0, poll: ok(), expect: [] },
        { at: 1, poll: unreachable(), expect: [] },
        { at: 2, poll: unreachable(), expect: [] },
        { at: 3, poll: unreachable(), expect: ['superoffice-down sales'] },
        { at: 4, poll: unreachable(), expect: [] },
        { at: 5, poll: ok(), expect: ['resolved superoffice-down sales'] },
        { at: 6, poll: ok(), expect: [] },
      ],
    },
    {
      name: 'unreachableAfter 1: fires on the first failure',
      rules: { unreachableAfter: 1 },
      steps: [
        { at: 0, poll: ok(), expect: [] },
        { at: 1, poll: unreachable(), expect: ['superoffice-down sales'] },
        { at: 2, poll: ok(), expect: ['resolved superoffice-down sales'] },
        { at: 3, poll: unreachable(), expect: ['superoffice-down sales'] },
      ],
    },
    {
      name: 'a success in between resets the count',
      steps: [
        { at: 1, poll: unreachable(), expect: [] },
        { at: 2, poll: unreachable(), expect: [] },
        { at: 3, poll: ok(), expect: [] },
        { at: 4, poll: unreachable(), expect: [] },
        { at: 5, poll: unreachable(), expect: [] },
        { at: 6, poll: unreachable(), expect: ['superoffice-down sales'] },
      ],
    },
    {
      name: 'unreachable from the very first poll',
      rules: { unreachableAfter: 1 },
      steps: [{ at: 0, poll: unreachable(), expect: ['superoffice-down sales'] }],
    },
    {
      name: 'reminders every repeatInterval while down',
      rules: { repeatInterval: HOUR, unreachableAfter: 1 },
      steps: [
        { at: 0, poll: unreachable(), expect: ['superoffice-down sales'] },
        { at: 59, poll: unreachable(), expect: [] },
        { at: 60, poll: unreachable(), expect: ['superoffice-down sales (repeat)'] },
        { at: 119, poll: unreachable(), expect: [] },
        { at: 121, poll: unreachable(), expect: ['superoffice-down sales (repeat)'] },
        { at: 122, poll: ok(), expect: ['resolved superoffice-down sales'] },
      ],
    },
    {
      name: 'task events wait for the outage to end; firing comes before resolutions',
      steps: [
        { at: 0, poll: ok(started(1, 10)), expect: [] },
        { at: 1, poll: unreachable(), expect: [] },
        { at: 2, poll: unreachable(), expect: [] },
        { at: 3, poll: unreachable(), expect: ['superoffice-down sales'] },
        { at: 4, poll: ok(failed(1)), expect: ['failed 1', 'resolved superoffice-down sales'] },
      ],
    },
    {
      name: 'time spent down does not count towards stallAfter',
      steps: [
        ...[0, 1, 2, 3, 4].map((m) => ({ at: m, poll: ok(started(1, 40)), expect: [] })),
        ...Array.from({ length: 26 }, (_, i) => ({ at: 5 + i, poll: unreachable(), expect: i === 2 ? ['superoffice-down sales'] : [] })),
        { at: 31, poll: ok(started(1, 40)), expect: ['resolved superoffice-down sales'] },
        // 4 minutes observed before the outage + 11 after = 15.
        { at: 41, poll: ok(started(1, 40)), expect: [] },
        { at: 42, poll: ok(started(1, 40)), expect: ['stalled 1'] },
      ],
    },
    {
      name: 'time spent down does not count towards queuedTimeout',
      rules: { unreachableAfter: 100 },
      steps: [
        { at: 0, poll: ok(fresh(1)), expect: [] },
        { at: 5, poll: ok(fresh(1)), expect: [] },
        { at: 6, poll: unreachable(), expect: [] },
        { at: 60, poll: unreachable(), expect: [] },
        { at: 61, poll: ok(fresh(1)), expect: [] },
        { at: 65, poll: ok(fresh(1)), expect: [] },
        { at: 66, poll: ok(fresh(1)), expect: ['stuck 1'] },
      ],
    },
    {
      name: 'a stall already notified survives the outage; its reminder waits for a successful poll',
      rules: { repeatInterval: HOUR },
      steps: [
        { at: 0, poll: ok(started(1, 40)), expect: [] },
        { at: 15, poll: ok(started(1, 40)), expect: ['stalled 1'] },
        { at: 20, poll: unreachable(), expect: [] },
        { at: 21, poll: unreachable(), expect: [] },
        { at: 22, poll: unreachable(), expect: ['superoffice-down sales'] },
        { at: 81, poll: unreachable(), expect: [] },
        { at: 82, poll: unreachable(), expect: ['superoffice-down sales (repeat)'] },
        { at: 101, poll: ok(started(1, 40)), expect: ['stalled 1 (repeat)', 'resolved superoffice-down sales'] },
        { at: 102, poll: ok(started(1, 41)), expect: ['resolved stalled 1'] },
      ],
    },
  ]);
});

describe('repeat reminders', () => {
  table([
    {
      name: 'stalled reminds every repeatInterval until resolved',
      rules: { repeatInterval: HOUR },
      steps: [
        { at: 0, poll: ok(started(1, 40)), expect: [] },
        { at: 15, poll: ok(started(1, 40)), expect: ['stalled 1'] },
        { at: 74, poll: ok(started(1, 40)), expect: [] },
        { at: 75, poll: ok(started(1, 40)), expect: ['stalled 1 (repeat)'] },
        { at: 134, poll: ok(started(1, 40)), expect: [] },
        { at: 140, poll: ok(started(1, 40)), expect: ['stalled 1 (repeat)'] },
        { at: 141, poll: ok(started(1, 41)), expect: ['resolved stalled 1'] },
      ],
    },
    {
      name: 'stuck reminds too',
      rules: { repeatInterval: HOUR },
      steps: [
        { at: 0, poll: ok(fresh(1)), expect: [] },
        { at: 10, poll: ok(fresh(1)), expect: ['stuck 1'] },
        { at: 70, poll: ok(fresh(1)), expect: ['stuck 1 (repeat)'] },
      ],
    },
    {
      name: 'repeatInterval 0 never reminds',
      rules: { repeatInterval: 0, unreachableAfter: 1 },
      steps: [
        { at: 0, poll: ok(started(1, 40), fresh(2)), expect: [] },
        { at: 15, poll: ok(started(1, 40), fresh(2)), expect: ['stalled 1', 'stuck 2'] },
        { at: 6000, poll: ok(started(1, 40), fresh(2)), expect: [] },
        { at: 6001, poll: unreachable(), expect: ['superoffice-down sales'] },
        { at: 9000, poll: unreachable(), expect: [] },
      ],
    },
  ]);
});

describe('sendResolved false', () => {
  table([
    {
      name: 'alerts clear without resolution events, and can fire again',
      rules: { sendResolved: false, unreachableAfter: 1 },
      steps: [
        { at: 0, poll: ok(started(1, 40), fresh(2), started(3, 10)), expect: [] },
        { at: 1, poll: ok(started(1, 40), fresh(2), failed(3)), expect: ['failed 3'] },
        { at: 15, poll: ok(started(1, 40), fresh(2), failed(3)), expect: ['stalled 1', 'stuck 2'] },
        { at: 16, poll: ok(started(1, 41), started(2, 0), succeeded(3, run2)), expect: [] },
        { at: 31, poll: ok(started(1, 41), started(2, 0), succeeded(3, run2)), expect: ['stalled 1', 'stalled 2'] },
        { at: 32, poll: unreachable(), expect: ['superoffice-down sales'] },
        { at: 33, poll: ok(), expect: [] },
      ],
    },
  ]);
});

describe('per-task-name rules', () => {
  const travel = (id: number, make: (id: number, more: More) => BatchTaskInfo) => make(id, { name: 'TravelGateway sync' });
  table([
    {
      name: 'ignored tasks never produce events',
      rules: { tasks: [{ name: 'TravelGateway*', ignore: true }] },
      steps: [
        {
          at: 0,
          poll: ok(
            travel(1, fresh),
            travel(2, (id, more) => started(id, 40, more)),
            travel(3, (id, more) => started(id, 1, more)),
          ),
          expect: [],
        },
        {
          at: 1,
          poll: ok(
            travel(1, fresh),
            travel(2, (id, more) => started(id, 40, more)),
            travel(3, failed),
          ),
          expect: [],
        },
        {
          at: 600,
          poll: ok(
            travel(1, fresh),
            travel(2, (id, more) => started(id, 40, more)),
            travel(3, failed),
          ),
          expect: [],
        },
        { at: 601, poll: ok(), expect: [] },
      ],
    },
    {
      name: 'an active alert of a task that becomes ignored clears silently',
      steps: [
        {
          at: 0,
          poll: ok(
            travel(1, (id, more) => started(id, 40, more)),
            travel(2, fresh),
          ),
          expect: [],
        },
        {
          at: 15,
          poll: ok(
            travel(1, (id, more) => started(id, 40, more)),
            travel(2, fresh),
          ),
          expect: ['stalled 1', 'stuck 2'],
        },
        {
          at: 16,
          rules: rules({ tasks: [{ name: 'TravelGateway*', ignore: true }] }),
          poll: ok(
            travel(1, (id, more) => started(id, 41, more)),
            travel(2, (id, more) => started(id, 0, more)),
          ),
          expect: [],
        },
        { at: 17, rules: rules(), poll: ok(travel(1, (id, more) => started(id, 41, more))), expect: [] },
      ],
    },
    {
      name: 'a vanished task whose alert is now ignored clears silently',
      steps: [
        { at: 0, poll: ok(travel(1, (id, more) => started(id, 40, more))), expect: [] },
        { at: 15, poll: ok(travel(1, (id, more) => started(id, 40, more))), expect: ['stalled 1'] },
        { at: 16, rules: rules({ tasks: [{ name: 'TravelGateway*', ignore: true }] }), poll: ok(), expect: [] },
      ],
    },
    {
      name: 'stallAfter set to 0 for an active stall clears it silently',
      steps: [
        { at: 0, poll: ok(started(1, 40)), expect: [] },
        { at: 15, poll: ok(started(1, 40)), expect: ['stalled 1'] },
        { at: 16, rules: rules({ stallAfter: 0 }), poll: ok(started(1, 41)), expect: [] },
      ],
    },
    {
      name: 'per-name stallAfter',
      rules: { tasks: [{ name: 'Mailing*', ignore: false, stallAfter: 2 * HOUR }] },
      steps: [
        { at: 0, poll: ok(started(1, 40, { name: 'Mailing: spring campaign' }), started(2, 40, { name: 'Import' })), expect: [] },
        {
          at: 15,
          poll: ok(started(1, 40, { name: 'Mailing: spring campaign' }), started(2, 40, { name: 'Import' })),
          expect: ['stalled 2'],
        },
        { at: 119, poll: ok(started(1, 40, { name: 'Mailing: spring campaign' }), started(2, 40, { name: 'Import' })), expect: [] },
        {
          at: 120,
          poll: ok(started(1, 40, { name: 'Mailing: spring campaign' }), started(2, 40, { name: 'Import' })),
          expect: ['stalled 1'],
        },
      ],
    },
    {
      name: 'per-name queuedTimeout',
      rules: { tasks: [{ name: 'Export*', ignore: false, queuedTimeout: 2 * MINUTE }] },
      steps: [
        { at: 0, poll: ok(fresh(1, { name: 'Export contacts' }), fresh(2)), expect: [] },
        { at: 2, poll: ok(fresh(1, { name: 'Export contacts' }), fresh(2)), expect: ['stuck 1'] },
        { at: 10, poll: ok(fresh(1, { name: 'Export contacts' }), fresh(2)), expect: ['stuck 2'] },
      ],
    },
    {
      name: 'first matching override wins',
      rules: {
        tasks: [
          { name: 'Mailing*', ignore: false, stallAfter: 2 * HOUR },
          { name: 'Mailing weekly', ignore: true },
        ],
      },
      steps: [
        { at: 0, poll: ok(started(1, 40, { name: 'Mailing weekly' })), expect: [] },
        { at: 60, poll: ok(started(1, 40, { name: 'Mailing weekly' })), expect: [] },
        { at: 120, poll: ok(started(1, 40, { name: 'Mailing weekly' })), expect: ['stalled 1'] },
      ],
    },
  ]);
});

describe('clock going backwards', () => {
  table([
    {
      name: 'no stall from a backwards jump; the original clock still counts',
      steps: [
        { at: 0, poll: ok(started(1, 40)), expect: [] },
        { at: 10, poll: ok(started(1, 40)), expect: [] },
        { at: -50, poll: ok(started(1, 40)), expect: [] },
        { at: 14, poll: ok(started(1, 40)), expect: [] },
        { at: 15, poll: ok(started(1, 40)), expect: ['stalled 1'] },
      ],
    },
    {
      name: 'no reminder and a clean resolution after jumping back',
      rules: { repeatInterval: MINUTE },
      steps: [
        { at: 0, poll: ok(started(1, 40)), expect: [] },
        { at: 15, poll: ok(started(1, 40)), expect: ['stalled 1'] },
        { at: -300, poll: ok(started(1, 40)), expect: [] },
        { at: -299, poll: ok(started(1, 45)), expect: ['resolved stalled 1'] },
      ],
    },
    {
      name: 'no stuck from a backwards jump',
      steps: [
        { at: 0, poll: ok(fresh(1)), expect: [] },
        { at: -100, poll: ok(fresh(1)), expect: [] },
        { at: 9, poll: ok(fresh(1)), expect: [] },
        { at: 10, poll: ok(fresh(1)), expect: ['stuck 1'] },
      ],
    },
    {
      name: 'outage with the clock jumping back',
      rules: { unreachableAfter: 2, repeatInterval: MINUTE },
      steps: [
        { at: 0, poll: ok(started(1, 40)), expect: [] },
        { at: 1, poll: unreachable(), expect: [] },
        { at: -100, poll: unreachable(), expect: ['superoffice-down sales'] },
        { at: -99.5, poll: unreachable(), expect: [] },
        { at: -98, poll: ok(started(1, 40)), expect: ['resolved superoffice-down sales'] },
        { at: 14, poll: ok(started(1, 40)), expect: [] },
        { at: 15, poll: ok(started(1, 40)), expect: ['stalled 1'] },
      ],
    },
  ]);
});

describe('odd responses', () => {
  table([
    {
      name: 'duplicate task ids: the last occurrence wins',
      steps: [
        { at: 0, poll: ok(started(1, 10), failed(1), started(2, 10)), expect: ['failed 1'] },
        { at: 1, poll: ok(failed(1), started(1, 20), failed(2), started(2, 20)), expect: [] },
        { at: 2, poll: ok(started(1, 20), started(1, 30), failed(2, run2), failed(2, run2)), expect: ['failed 2'] },
      ],
    },
    {
      name: 'unknown states are carried without events',
      steps: [
        { at: 0, poll: ok(inState(1, 'Unknown'), inState(2, 'Paused'), inState(3, '')), expect: [] },
        { at: 600, poll: ok(inState(1, 'Paused'), inState(2, 'Unknown'), inState(3, 'Unknown')), expect: [] },
      ],
    },
    {
      name: 'many tasks: events ordered firing first, then by task id',
      steps: [
        { at: 0, poll: ok(started(30, 40), fresh(4), started(200, 1), started(7, 5)), expect: [] },
        { at: 5, poll: ok(started(30, 40), fresh(4), failed(200), started(7, 5)), expect: ['failed 200'] },
        { at: 15, poll: ok(started(30, 40), fresh(4), failed(200), started(7, 5)), expect: ['stuck 4', 'stalled 7', 'stalled 30'] },
        {
          at: 16,
          poll: ok(started(30, 41), started(4, 0), succeeded(200, run2), started(7, 5)),
          expect: ['resolved stuck 4', 'resolved stalled 30', 'resolved failed 200'],
        },
      ],
    },
  ]);
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BatchTaskInfo, PollOutcome, UnreadableTask } from '../src/core/model.ts';
import { runSteps } from './helpers/core-sequence.ts';
import { MINUTE, T0, ok, rules, task } from './helpers/tasks.ts';

/** Tasks left out of a poll because a field could not be read: nothing fires or resolves because of them. */

const at = (minutes: number) => T0 + minutes * MINUTE;
const started = (id: number, progressPercent: number) => task({ id, state: 'Started', progressPercent, startCount: 1, lastStarted: at(0) });
const failed = (id: number) => task({ id, state: 'Failed', progressPercent: 60, startCount: 1, lastStarted: at(0) });

function partial(tasks: BatchTaskInfo[], unreadable: UnreadableTask[]): PollOutcome {
  return { ok: true, tasks, unreadable };
}
const bad = (id: number | null, field = 'LastStarted'): UnreadableTask => ({
  id,
  field,
  problem: `expected an xs:dateTime, got "yesterday"`,
});

describe('evaluate() with unreadable tasks', () => {
  it('keeps an unreadable task exactly as it was: no resolution, no vanishing, no reminder, no stall', () => {
    const run = runSteps(rules({ repeatInterval: 10 * MINUTE }), [
      { at: 0, poll: ok(started(1, 40), started(2, 10)), expect: [] },
      { at: 16, poll: ok(started(1, 40), started(2, 20)), expect: ['stalled 1'] },
      // Task 1 cannot be read for a long while: its stall neither resolves nor repeats, its record stays.
      { at: 30, poll: partial([started(2, 30)], [bad(1)]), expect: [] },
      { at: 60, poll: partial([started(2, 40)], [bad(1)]), expect: [] },
      // Readable again and still at 40%: still the same stall (now a reminder is due).
      { at: 61, poll: ok(started(1, 40), started(2, 50)), expect: ['stalled 1 (repeat)'] },
    ]);
    const whileUnreadable = run.snapshots[3];
    const before = run.snapshots[2];
    assert.ok(whileUnreadable && before);
    assert.deepEqual(whileUnreadable.tasks['1'], before.tasks['1'], 'the record is the one from before');
    assert.deepEqual(whileUnreadable.alerts, before.alerts, 'the stalled alert of task 1 is kept as it was');
  });

  it('an unreadable task does not fire: a readable copy of its id in the same answer is ignored', () => {
    runSteps(rules(), [
      { at: 0, poll: ok(started(1, 40)), expect: [] },
      { at: 1, poll: partial([failed(1)], [bad(1)]), expect: [] },
      { at: 2, poll: ok(failed(1)), expect: ['failed 1'] },
    ]);
  });

  it('a failed alert of an unreadable task is neither resolved nor dropped', () => {
    const run = runSteps(rules(), [
      { at: 0, poll: ok(started(1, 40)), expect: [] },
      { at: 1, poll: ok(failed(1)), expect: ['failed 1'] },
      { at: 2, poll: partial([], [bad(1)]), expect: [] },
    ]);
    assert.deepEqual(Object.keys(run.snapshots[3]?.alerts ?? {}), Object.keys(run.snapshots[2]?.alerts ?? {}));
  });

  it('an unreadable task with a readable Id only shields that id: other absent tasks vanish as usual', () => {
    runSteps(rules(), [
      { at: 0, poll: ok(started(1, 40), started(2, 40)), expect: [] },
      { at: 16, poll: ok(started(1, 40), started(2, 40)), expect: ['stalled 1', 'stalled 2'] },
      { at: 17, poll: partial([], [bad(1)]), expect: ['resolved stalled 2'] },
    ]);
  });

  it('when an unreadable task has no readable Id, no absent task counts as vanished in that poll', () => {
    const run = runSteps(rules(), [
      { at: 0, poll: ok(started(1, 40), started(2, 40), started(3, 10)), expect: [] },
      { at: 16, poll: ok(started(1, 40), started(2, 40), started(3, 20)), expect: ['stalled 1', 'stalled 2'] },
      // The unreadable one may be task 1 or 2: neither is resolved as vanished, both records stay.
      { at: 17, poll: partial([started(3, 30)], [bad(null, 'Id')]), expect: [] },
      // Once every task is readable again, the absent ones vanish.
      { at: 18, poll: ok(started(3, 40)), expect: ['resolved stalled 1', 'resolved stalled 2'] },
    ]);
    assert.deepEqual(Object.keys(run.snapshots[3]?.tasks ?? {}), ['1', '2', '3']);
  });

  it('a poll with unreadable tasks is still a successful poll (resolves superoffice-down, resets failures)', () => {
    const run = runSteps(rules({ unreachableAfter: 1 }), [
      { at: 0, poll: { ok: false, error: { kind: 'transport', message: 'refused' } }, expect: ['superoffice-down sales'] },
      { at: 1, poll: partial([started(2, 10)], [bad(1)]), expect: ['resolved superoffice-down sales'] },
    ]);
    assert.equal(run.snapshots[2]?.consecutiveFailures, 0);
  });
});

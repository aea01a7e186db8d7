import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluate } from '../src/core/evaluate.ts';
import { emptySnapshot, type Snapshot } from '../src/core/model.ts';
import { sameTaskInfo } from '../src/core/task.ts';
import { MINUTE, T0, ok, rules, task, unreachable } from './helpers/tasks.ts';

/** evaluate() hands back the previous record/alert object when nothing changed: the store and metrics diff by identity. */

const at = (minutes: number) => T0 + minutes * MINUTE;
const r = rules({ stallAfter: 10 * MINUTE });
const running = (id: number, progressPercent: number, more = {}) =>
  task({ id, state: 'Started', progressPercent, startCount: 1, lastStarted: at(0), parameterObject: { selection: '7' }, ...more });

function step(prev: Snapshot, outcome: ReturnType<typeof ok>, minutes: number): Snapshot {
  const { next } = evaluate(prev, outcome, at(minutes), r);
  return { ...next, version: next.version + 1 };
}

describe('record identity across polls', () => {
  it('keeps the same record object for a task polled again with equal values (a fresh object from the parser)', () => {
    const first = step(emptySnapshot('sales'), ok(running(1, 10), running(2, 20)), 0);
    const second = step(first, ok(running(1, 10), running(2, 25)), 1);
    assert.equal(second.tasks['1'], first.tasks['1'], 'unchanged task: same object');
    assert.notEqual(second.tasks['2'], first.tasks['2'], 'progress moved: a new record');
    assert.equal(second.tasks['2']?.progressSince, at(1));
  });

  it('a changed parameter, name or description makes a new record even though no timer moves', () => {
    const first = step(emptySnapshot('sales'), ok(running(1, 10)), 0);
    for (const changed of [
      { parameterObject: { selection: '8' } },
      { parameterObject: { selection: '7', extra: '' } },
      { name: 'Renamed' },
      { description: 'now with text' },
    ]) {
      const next = step(first, ok(running(1, 10, changed)), 1);
      assert.notEqual(next.tasks['1'], first.tasks['1'], JSON.stringify(changed));
      assert.equal(next.tasks['1']?.stateSince, first.tasks['1']?.stateSince);
    }
  });

  it('keeps alerts that fired earlier as the same objects, and a reminder makes a new one', () => {
    const first = step(emptySnapshot('sales'), ok(running(1, 10)), 0);
    const stalled = step(first, ok(running(1, 10)), 11);
    const alert = stalled.alerts['stalled:1'];
    assert.ok(alert, 'stalled fired');
    const quiet = step(stalled, ok(running(1, 10)), 12);
    assert.equal(quiet.alerts['stalled:1'], alert);
    assert.equal(quiet.tasks['1'], stalled.tasks['1']);
    const reminded = step(quiet, ok(running(1, 10)), 11 + 4 * 60);
    assert.notEqual(reminded.alerts['stalled:1'], alert, 'repeatInterval passed: lastNotifiedAt moved');
  });

  it('a failed poll keeps every record; the first success after it shifts timers, so those records are new', () => {
    const first = step(emptySnapshot('sales'), ok(running(1, 10)), 0);
    const { next: down } = evaluate(first, unreachable(), at(1), r);
    assert.equal(down.tasks['1'], first.tasks['1']);
    const back = step({ ...down, version: 2 }, ok(running(1, 10)), 5);
    assert.notEqual(back.tasks['1'], first.tasks['1'], 'the outage is not counted towards the stall timer');
    assert.equal(back.tasks['1']?.progressSince, at(5), 'moved forward by the time since the last successful poll');
  });
});

describe('sameTaskInfo', () => {
  it('compares every field, parameters by value', () => {
    const a = running(1, 10);
    assert.equal(sameTaskInfo(a, { ...a, parameterObject: { ...a.parameterObject } }), true);
    assert.equal(sameTaskInfo(a, { ...a, response: 'x' }), false);
    assert.equal(sameTaskInfo(a, { ...a, progressPercent: null }), false);
    assert.equal(sameTaskInfo(a, { ...a, parameterObject: {} }), false);
    assert.equal(sameTaskInfo({ ...a, parameterObject: { a: '1' } }, { ...a, parameterObject: { b: '1' } }), false);
  });
});

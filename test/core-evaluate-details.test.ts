import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluate } from '../src/core/evaluate.ts';
import { emptySnapshot, type AlertEvent, type BatchTaskInfo, type PollOutcome, type Rules, type Snapshot } from '../src/core/model.ts';
import { HOUR, MINUTE, T0, ok, rules, task, unreachable } from './helpers/tasks.ts';

/** Exact event fields, ids, reasons and snapshot bookkeeping. */

const at = (minutes: number) => T0 + minutes * MINUTE;
const run1 = { startCount: 1, lastStarted: at(0) };
const started = (id: number, progressPercent: number | null, more: Partial<BatchTaskInfo> = {}) =>
  task({ id, state: 'Started', progressPercent, ...run1, ...more });
const failed = (id: number, more: Partial<BatchTaskInfo> = {}) => task({ id, state: 'Failed', ...run1, ...more });

interface Poll {
  at: number;
  poll: PollOutcome;
  rules?: Rules;
}

/** Runs the polls; returns the events of every poll and the final snapshot. */
function play(polls: Poll[], base: Rules = rules()): { events: AlertEvent[][]; snapshot: Snapshot } {
  let snapshot = emptySnapshot('sales');
  const events: AlertEvent[][] = [];
  for (const p of polls) {
    const result = evaluate(snapshot, p.poll, at(p.at), p.rules ?? base);
    snapshot = { ...result.next, version: result.next.version + 1 };
    events.push(result.events);
  }
  return { events, snapshot };
}

function only(events: AlertEvent[] | undefined): AlertEvent {
  assert.ok(events, 'no such poll');
  assert.equal(events.length, 1, `expected one event, got ${events.map((e) => e.id).join(', ')}`);
  return events[0]!;
}

describe('failed events', () => {
  it('carry a run-based id, the task as polled and since = when the failure was seen', () => {
    const t = failed(1, { description: 'Import failed', response: 'Timeout' });
    const { events } = play([
      { at: 0, poll: ok(started(1, 10)) },
      { at: 1, poll: ok(t) },
    ]);
    assert.deepEqual(only(events[1]), {
      id: `sales:failed:1:1:${at(0)}`,
      kind: 'failed',
      alertKind: 'failed',
      schedule: 'sales',
      subject: '1',
      repeat: false,
      at: at(1),
      since: at(1),
      task: t,
    });
  });

  it('a new run failing gets a new id; the resolution names the latest episode', () => {
    const run2 = { startCount: 2, lastStarted: at(30) };
    const { events } = play([
      { at: 0, poll: ok(started(1, 10)) },
      { at: 1, poll: ok(failed(1)) },
      { at: 30, poll: ok(started(1, 0, run2)) },
      { at: 31, poll: ok(failed(1, run2)) },
      { at: 40, poll: ok(task({ id: 1, state: 'SucceededManualCleanup', startCount: 3, lastStarted: at(39) })) },
    ]);
    assert.equal(only(events[1]).id, `sales:failed:1:1:${at(0)}`);
    assert.equal(only(events[3]).id, `sales:failed:1:2:${at(30)}`);
    const resolved = only(events[4]);
    assert.equal(resolved.id, `sales:failed:1:2:${at(30)}:resolved`);
    assert.equal(resolved.reason, 'task succeeded (SucceededManualCleanup)');
    assert.equal(resolved.since, at(31));
    assert.equal(resolved.alertKind, 'failed');
  });

  it('repeated failures of the same run stay distinct, keyed by when the task left Failed', () => {
    const { events } = play([
      { at: 0, poll: ok(started(1, 10)) },
      { at: 1, poll: ok(failed(1)) },
      { at: 2, poll: ok(started(1, 10)) },
      { at: 3, poll: ok(failed(1)) },
      { at: 4, poll: ok(task({ id: 1, state: 'Unknown', ...run1 })) },
      { at: 5, poll: ok(failed(1)) },
    ]);
    const base = `sales:failed:1:1:${at(0)}`;
    assert.deepEqual(
      [events[1], events[3], events[5]].map((e) => only(e).id),
      [base, `${base}:${at(2)}`, `${base}:${at(4)}`],
    );
  });

  it('missing run markers are written as "-"', () => {
    const { events } = play([{ at: 0, poll: ok(task({ id: 9, state: 'Failed', startCount: null, lastStarted: null, created: at(-1) })) }]);
    assert.equal(only(events[0]).id, 'sales:failed:9:-:-');
  });

  it('a task that vanishes and reappears still Failed in the same run repeats the same id (deduplicated downstream)', () => {
    const { events } = play([
      { at: 0, poll: ok(failed(1)) },
      { at: 1, poll: ok() },
      { at: 2, poll: ok(failed(1)) },
    ]);
    assert.equal(only(events[0]).id, only(events[2]).id);
    assert.deepEqual(events[1], []);
  });
});

describe('stalled, stuck and their reminders', () => {
  it('stalled: id and since from the progress clock; reminders r1, r2; resolution with the reason', () => {
    const r = rules({ repeatInterval: HOUR });
    const { events, snapshot } = play(
      [
        { at: 0, poll: ok(started(1, 40, { progressDescription: 'Indexing' })) },
        { at: 15, poll: ok(started(1, 40, { progressDescription: 'Indexing' })) },
        { at: 75, poll: ok(started(1, 40, { progressDescription: 'Indexing' })) },
        { at: 135, poll: ok(started(1, 40, { progressDescription: 'Indexing' })) },
      ],
      r,
    );
    const episode = `sales:stalled:1:${at(0)}`;
    const [fired, r1, r2] = [only(events[1]), only(events[2]), only(events[3])];
    assert.deepEqual([fired.id, r1.id, r2.id], [episode, `${episode}:r1`, `${episode}:r2`]);
    assert.deepEqual([fired.repeat, r1.repeat, r2.repeat], [false, true, true]);
    assert.deepEqual([fired.since, r1.since, r2.since], [at(0), at(0), at(0)]);
    assert.deepEqual([fired.at, r1.at, r2.at], [at(15), at(75), at(135)]);
    assert.deepEqual(snapshot.alerts['stalled:1'], {
      kind: 'stalled',
      subject: '1',
      eventId: episode,
      firedAt: at(15),
      lastNotifiedAt: at(135),
      repeats: 2,
    });

    const moved = started(1, 35, { progressDescription: 'Rebuilding' });
    const { next, events: resolved } = evaluate(snapshot, ok(moved), at(140), r);
    assert.deepEqual(only(resolved), {
      id: `${episode}:resolved`,
      kind: 'resolved',
      alertKind: 'stalled',
      schedule: 'sales',
      subject: '1',
      repeat: false,
      at: at(140),
      since: at(0),
      task: moved,
      reason: 'progress changed from 40% "Indexing" to 35% "Rebuilding"',
    });
    assert.deepEqual(next.alerts, {});
  });

  it('stuck: id and since from first sight in New', () => {
    const t = task({ id: 4, state: 'New', created: at(-300) });
    const { events } = play([
      { at: 2, poll: ok(t) },
      { at: 12, poll: ok(t) },
    ]);
    const e = only(events[1]);
    assert.equal(e.id, `sales:stuck:4:${at(2)}`);
    assert.equal(e.since, at(2));
    assert.deepEqual(e.task, t);
  });

  const reasons: { name: string; first: BatchTaskInfo; last: BatchTaskInfo | null; kind: 'stalled' | 'stuck'; reason: string }[] = [
    {
      name: 'success',
      kind: 'stalled',
      first: started(1, 40),
      last: task({ id: 1, state: 'Succeeded', ...run1 }),
      reason: 'task succeeded (Succeeded)',
    },
    { name: 'failure', kind: 'stalled', first: started(1, 40), last: failed(1, { progressPercent: 40 }), reason: 'task failed' },
    {
      name: 'unknown state',
      kind: 'stalled',
      first: started(1, 40),
      last: task({ id: 1, state: 'Paused', progressPercent: 40, ...run1 }),
      reason: 'state changed from Started to Paused',
    },
    {
      name: 'restart',
      kind: 'stalled',
      first: started(1, 40),
      last: started(1, 40, { startCount: 2 }),
      reason: 'task restarted (StartCount 1 -> 2)',
    },
    {
      name: 'restart by LastStarted',
      kind: 'stalled',
      first: started(1, 40),
      last: started(1, 40, { lastStarted: at(20) }),
      reason: 'task restarted (LastStarted changed)',
    },
    {
      name: 'no progress to some',
      kind: 'stalled',
      first: started(1, null),
      last: started(1, 5),
      reason: 'progress changed from no progress to 5%',
    },
    { name: 'vanished', kind: 'stalled', first: started(1, 40), last: null, reason: 'task vanished' },
    { name: 'left New', kind: 'stuck', first: task({ id: 1, state: 'New' }), last: started(1, 0), reason: 'task left New (now Started)' },
    { name: 'vanished while New', kind: 'stuck', first: task({ id: 1, state: 'New' }), last: null, reason: 'task vanished' },
  ];
  for (const c of reasons) {
    it(`resolution reason for ${c.kind}: ${c.name}`, () => {
      const { events } = play([
        { at: 0, poll: ok(c.first) },
        { at: 15, poll: ok(c.first) },
        { at: 20, poll: c.last ? ok(c.last) : ok() },
      ]);
      assert.equal(only(events[1]).kind, c.kind);
      const resolved = events[2]!.find((e) => e.kind === 'resolved');
      assert.ok(resolved);
      assert.equal(resolved.reason, c.reason);
      assert.equal(resolved.alertKind, c.kind);
      assert.equal(resolved.since, at(0));
      assert.deepEqual(resolved.task, c.last ?? c.first, 'the latest task as seen (the last one seen when it vanished)');
    });
  }
});

describe('superoffice-down events', () => {
  const refused = { kind: 'transport' as const, message: 'connect ECONNREFUSED' };
  const fault = { kind: 'soap-fault' as const, message: 'Server was unable to process request' };

  it('id and since from the last successful poll; error and count carried; reminders and resolution', () => {
    const r = rules({ repeatInterval: HOUR });
    const { events, snapshot } = play(
      [
        { at: 0, poll: ok() },
        { at: 1, poll: { ok: false, error: refused } },
        { at: 2, poll: { ok: false, error: refused } },
        { at: 3, poll: { ok: false, error: fault } },
        { at: 63, poll: { ok: false, error: refused } },
      ],
      r,
    );
    const episode = `sales:superoffice-down:${at(0)}`;
    assert.deepEqual(only(events[3]), {
      id: episode,
      kind: 'superoffice-down',
      alertKind: 'superoffice-down',
      schedule: 'sales',
      subject: 'sales',
      repeat: false,
      at: at(3),
      since: at(0),
      error: fault,
      consecutiveFailures: 3,
    });
    assert.deepEqual(only(events[4]), {
      id: `${episode}:r1`,
      kind: 'superoffice-down',
      alertKind: 'superoffice-down',
      schedule: 'sales',
      subject: 'sales',
      repeat: true,
      at: at(63),
      since: at(0),
      error: refused,
      consecutiveFailures: 4,
    });
    assert.equal(snapshot.consecutiveFailures, 4);
    assert.deepEqual(snapshot.lastError, refused);
    assert.equal(snapshot.lastSuccessAt, at(0));
    assert.equal(snapshot.lastPollAt, at(63));

    const { next, events: after } = evaluate(snapshot, ok(), at(64), r);
    assert.deepEqual(only(after), {
      id: `${episode}:resolved`,
      kind: 'resolved',
      alertKind: 'superoffice-down',
      schedule: 'sales',
      subject: 'sales',
      repeat: false,
      at: at(64),
      since: at(0),
      error: refused,
      consecutiveFailures: 4,
      reason: 'SuperOffice answered again after 4 failed polls',
    });
    assert.equal(next.consecutiveFailures, 0);
    assert.equal(next.lastError, null);
    assert.equal(next.lastSuccessAt, at(64));
    assert.equal(next.lastPollAt, at(64));
    assert.deepEqual(next.alerts, {});
  });

  it('never reached: the episode is anchored at the poll that fired', () => {
    const { events } = play([
      { at: 0, poll: unreachable() },
      { at: 1, poll: unreachable() },
      { at: 2, poll: unreachable() },
    ]);
    const e = only(events[2]);
    assert.equal(e.id, `sales:superoffice-down:${at(2)}`);
    assert.equal(e.since, at(2));
  });

  it('a failed poll keeps task records and task alerts untouched', () => {
    const { snapshot } = play([
      { at: 0, poll: ok(started(1, 40), failed(2)) },
      { at: 15, poll: ok(started(1, 40), failed(2)) },
    ]);
    const { next, events } = evaluate(snapshot, unreachable(), at(16), rules({ unreachableAfter: 5 }));
    assert.deepEqual(events, []);
    assert.deepEqual(next.tasks, snapshot.tasks);
    assert.deepEqual(next.alerts, snapshot.alerts);
    assert.deepEqual(Object.keys(next.alerts).sort(), ['failed:2', 'stalled:1']);
  });
});

describe('snapshot bookkeeping', () => {
  it('keeps schedule and version; records first sight, state and progress clocks', () => {
    const prev = { ...emptySnapshot('sales'), version: 41 };
    const first = evaluate(prev, ok(started(1, 10), task({ id: 2, state: 'New' })), at(0), rules());
    assert.equal(first.next.version, 41);
    assert.equal(first.next.schedule, 'sales');
    assert.deepEqual(first.next.tasks['1'], { task: started(1, 10), firstSeenAt: at(0), stateSince: at(0), progressSince: at(0) });

    const second = evaluate(first.next, ok(started(1, 20), task({ id: 2, state: 'New' })), at(5), rules());
    assert.deepEqual(second.next.tasks['1'], { task: started(1, 20), firstSeenAt: at(0), stateSince: at(0), progressSince: at(5) });
    assert.deepEqual(second.next.tasks['2'], {
      task: task({ id: 2, state: 'New' }),
      firstSeenAt: at(0),
      stateSince: at(0),
      progressSince: at(0),
    });

    const third = evaluate(second.next, ok(failed(1, { progressPercent: 20 })), at(7), rules());
    assert.deepEqual(third.next.tasks['1'], {
      task: failed(1, { progressPercent: 20 }),
      firstSeenAt: at(0),
      stateSince: at(7),
      progressSince: at(7),
    });
    assert.equal(third.next.tasks['2'], undefined, 'vanished tasks are dropped');
  });

  it("after failed polls, carried timers move forward by the unobserved time (except an active alert's)", () => {
    const r = rules({ stallAfter: 3 * MINUTE, unreachableAfter: 10 });
    const { snapshot, events } = play(
      [
        { at: 0, poll: ok(started(1, 40), task({ id: 2, state: 'New' }), started(3, 5)) },
        { at: 2, poll: ok(started(1, 41), task({ id: 2, state: 'New' }), started(3, 5)) },
        { at: 4, poll: ok(started(1, 41), task({ id: 2, state: 'New' }), started(3, 5)) },
        { at: 5, poll: unreachable() },
        { at: 20, poll: unreachable() },
        { at: 31, poll: ok(started(1, 41), task({ id: 2, state: 'New' }), started(3, 5)) },
      ],
      r,
    );
    assert.deepEqual(
      events.map((e) => e.map((x) => x.id)),
      [[], [], [`sales:stalled:3:${at(0)}`], [], [], []],
    );
    // 2 minutes of unchanged progress were observed before the outage; 31 - 4 = 27 minutes were not.
    assert.equal(snapshot.tasks['1']?.progressSince, at(29));
    assert.equal(snapshot.tasks['2']?.stateSince, at(27));
    assert.equal(snapshot.tasks['2']?.firstSeenAt, at(0), 'first sight is a fact, never shifted');
    // Task 3 was already stalled: its clock stays, or its episode (and id) would change.
    assert.equal(snapshot.tasks['3']?.progressSince, at(0));
    assert.equal(snapshot.alerts['stalled:3']?.eventId, `sales:stalled:3:${at(0)}`);
    // Task 1 stalls one minute after the recovery poll (2 + 1 observed minutes = 3).
    assert.deepEqual(evaluate(snapshot, ok(started(1, 41), task({ id: 2, state: 'New' }), started(3, 5)), at(31.9), r).events, []);
    assert.deepEqual(
      evaluate(snapshot, ok(started(1, 41), task({ id: 2, state: 'New' }), started(3, 5)), at(32), r).events.map((e) => e.id),
      [`sales:stalled:1:${at(29)}`],
    );
  });

  it('ignored tasks and unknown states are kept in the snapshot as they came', () => {
    const travel = task({ id: 5, name: 'TravelGateway sync', state: 'Failed', lastStarted: at(0) });
    const paused = task({ id: 6, state: 'Paused' });
    const { next, events } = evaluate(
      emptySnapshot('sales'),
      ok(travel, paused),
      at(1),
      rules({ tasks: [{ name: 'TravelGateway*', ignore: true }] }),
    );
    assert.deepEqual(events, []);
    assert.equal(next.tasks['5']?.task, travel);
    assert.equal(next.tasks['6']?.task.state, 'Paused');
  });

  it('duplicate ids: the record holds the last occurrence', () => {
    const a = started(1, 10);
    const b = started(1, 20, { description: 'second' });
    const { next } = evaluate(emptySnapshot('sales'), ok(a, started(2, 1), b), at(0), rules());
    assert.equal(next.tasks['1']?.task, b);
    assert.deepEqual(Object.keys(next.tasks), ['1', '2']);
  });

  it('sendResolved false still clears the alert', () => {
    const r = rules({ sendResolved: false });
    const { snapshot } = play(
      [
        { at: 0, poll: ok(started(1, 40)) },
        { at: 15, poll: ok(started(1, 40)) },
      ],
      r,
    );
    assert.ok(snapshot.alerts['stalled:1']);
    const { next, events } = evaluate(snapshot, ok(started(1, 41)), at(16), r);
    assert.deepEqual(events, []);
    assert.deepEqual(next.alerts, {});
  });
});

describe('determinism and purity', () => {
  const r = rules({ repeatInterval: HOUR, unreachableAfter: 1 });
  const states: { name: string; prev: Snapshot; poll: PollOutcome; now: number }[] = [];
  {
    const { snapshot } = play(
      [
        { at: 0, poll: ok(started(1, 40), task({ id: 2, state: 'New' }), started(3, 1)) },
        { at: 15, poll: ok(started(1, 40), task({ id: 2, state: 'New' }), started(3, 1)) },
      ],
      r,
    );
    states.push({
      name: 'firing and resolving task alerts',
      prev: snapshot,
      poll: ok(started(1, 41), failed(3), started(2, 0)),
      now: at(16),
    });
    states.push({ name: 'reminders', prev: snapshot, poll: ok(started(1, 40), task({ id: 2, state: 'New' }), started(3, 1)), now: at(80) });
    states.push({ name: 'outage', prev: snapshot, poll: unreachable(), now: at(16) });
  }

  for (const s of states) {
    it(`same input, same output, input untouched: ${s.name}`, () => {
      const before = structuredClone(s.prev);
      const pollBefore = structuredClone(s.poll);
      const a = evaluate(s.prev, s.poll, s.now, r);
      const b = evaluate(s.prev, s.poll, s.now, r);
      assert.deepEqual(a, b);
      assert.ok(a.events.length > 0, 'the scenario must produce events to be meaningful');
      assert.deepEqual(s.prev, before);
      assert.deepEqual(s.poll, pollBefore);
      assert.equal(JSON.stringify(a), JSON.stringify(b), 'identical serialization (key order too)');
    });
  }

  it('a retried poll a little later (crash before the snapshot write) yields the same firing ids', () => {
    const r = rules({ stallAfter: MINUTE, queuedTimeout: MINUTE });
    const { snapshot } = play([{ at: 0, poll: ok(started(1, 40), task({ id: 2, state: 'New' }), started(3, 1)) }], r);
    const poll = ok(started(1, 40), task({ id: 2, state: 'New' }), failed(3));
    const ids = (now: number) => evaluate(snapshot, poll, now, r).events.map((e) => e.id);
    assert.deepEqual(ids(at(3)), [`sales:stalled:1:${at(0)}`, `sales:stuck:2:${at(0)}`, `sales:failed:3:1:${at(0)}`]);
    assert.deepEqual(ids(at(3)), ids(at(4)));

    const { snapshot: down } = play([
      { at: 0, poll: ok() },
      { at: 1, poll: unreachable() },
      { at: 2, poll: unreachable() },
    ]);
    const downIds = (now: number) => evaluate(down, unreachable(), now, rules()).events.map((e) => e.id);
    assert.deepEqual(downIds(at(3)), [`sales:superoffice-down:${at(0)}`]);
    assert.deepEqual(downIds(at(3)), downIds(at(9)));
  });

  it('no event ever has since after at, even when the clock goes back', () => {
    const { snapshot } = play([
      { at: 0, poll: ok(started(1, 40)) },
      { at: 15, poll: ok(started(1, 40)) },
    ]);
    const { events } = evaluate(snapshot, ok(), at(-500), rules());
    const e = only(events);
    assert.equal(e.kind, 'resolved');
    assert.ok(e.since <= e.at);
  });
});

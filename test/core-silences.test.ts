import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluate } from '../src/core/evaluate.ts';
import {
  alertKey,
  episodeOf,
  failedEventId,
  releaseEventId,
  repeatEventId,
  resolvedEventId,
  stalledEventId,
} from '../src/core/event-id.ts';
import { nextStart, windowInForce, type MaintenanceWindow } from '../src/core/maintenance-windows.ts';
import { describeMatchers, matchesAlert, type AlertFacts } from '../src/core/matchers.ts';
import { emptySnapshot, type AlertEvent, type Snapshot } from '../src/core/model.ts';
import { muteVerdict, type EpisodeLog } from '../src/core/mute-decision.ts';
import { muting } from '../src/core/muting.ts';
import { releaseMuted, type MutedAlert } from '../src/core/release.ts';
import { countByState, expireSilence, silenceState, type Silence } from '../src/core/silences.ts';
import { HOUR, MINUTE, T0, ok, rules, task, unreachable } from './helpers/tasks.ts';

const mailing = task({
  id: 4711,
  name: 'FreeTextIndex',
  associateId: 12,
  state: 'Started',
  progressPercent: 40,
  startCount: 1,
  lastStarted: T0,
});
const facts = (over: Partial<AlertFacts> = {}): AlertFacts => ({ schedule: 'sales', kind: 'stalled', task: mailing, ...over });

function silence(over: Partial<Silence> = {}): Silence {
  return {
    id: 's1',
    matchers: { task: 'FreeText*' },
    startsAt: T0,
    endsAt: T0 + HOUR,
    comment: 'reindex',
    author: 'ops',
    createdAt: T0,
    ...over,
  };
}

describe('matchers', () => {
  it('are ANDed; a task glob matches like rules.tasks', () => {
    assert.ok(matchesAlert({ task: 'FreeText*' }, facts()));
    assert.ok(matchesAlert({ task: 'FreeText*', kind: 'stalled', schedule: 'sales', taskId: 4711, associate: 12 }, facts()));
    assert.ok(!matchesAlert({ task: 'FreeText*', kind: 'failed' }, facts()));
    assert.ok(!matchesAlert({ schedule: 'support' }, facts()));
    assert.ok(!matchesAlert({ taskId: 1 }, facts()));
    assert.ok(!matchesAlert({ associate: 0 }, facts()));
    assert.ok(!matchesAlert({ task: 'freetext*' }, facts()), 'case-sensitive, as rules.tasks');
    assert.ok(matchesAlert({}, facts()), 'no matchers: everything (maintenance windows only; silences need one)');
  });

  it('task matchers never match superoffice-down (it has no task); schedule and kind do', () => {
    const down = facts({ kind: 'superoffice-down', task: undefined });
    assert.ok(!matchesAlert({ task: '*' }, down));
    assert.ok(!matchesAlert({ taskId: 4711 }, down));
    assert.ok(!matchesAlert({ associate: 12 }, down));
    assert.ok(matchesAlert({ schedule: 'sales', kind: 'superoffice-down' }, down));
  });

  it('are described in one line', () => {
    assert.equal(describeMatchers({ kind: 'stalled', task: 'FreeText*', associate: 0 }), 'task="FreeText*" associate=system kind=stalled');
    assert.equal(describeMatchers({}), 'everything');
  });
});

describe('silences', () => {
  it('are pending before startsAt, active until endsAt (exclusive), then expired', () => {
    const s = silence({ startsAt: T0 + MINUTE });
    assert.equal(silenceState(s, T0), 'pending');
    assert.equal(silenceState(s, T0 + MINUTE), 'active');
    assert.equal(silenceState(s, T0 + HOUR - 1), 'active');
    assert.equal(silenceState(s, T0 + HOUR), 'expired');
    assert.deepEqual(countByState([s, silence({ id: 's2' }), silence({ id: 's3', endsAt: T0 })], T0), {
      active: 1,
      pending: 1,
      expired: 1,
    });
  });

  it('expire now: endsAt becomes now, who and when are kept; an ended one is unchanged', () => {
    const ended = expireSilence(silence(), T0 + 10 * MINUTE, 'alice');
    assert.equal(ended.endsAt, T0 + 10 * MINUTE);
    assert.equal(ended.expiredBy, 'alice');
    assert.equal(silenceState(ended, T0 + 10 * MINUTE), 'expired');
    const pending = expireSilence(silence({ startsAt: T0 + HOUR, endsAt: T0 + 2 * HOUR }), T0, 'bob');
    assert.equal(silenceState(pending, T0), 'expired');
    const old = silence({ endsAt: T0 });
    assert.equal(expireSilence(old, T0 + HOUR, 'x'), old);
  });
});

describe('maintenance windows (clock injected, no waiting for cron)', () => {
  const window: MaintenanceWindow = {
    name: 'saturday-reindex',
    cron: '0 22 * * 6',
    tz: 'Europe/Oslo',
    duration: 4 * HOUR,
    match: { task: 'FreeText*', kind: 'stalled' },
  };
  // Saturday 2025-01-11 22:00 in Oslo is 21:00 UTC (CET, +1).
  const start = Date.UTC(2025, 0, 11, 21, 0, 0);

  it('is in force from each cron start (read in its zone) for its duration', () => {
    assert.deepEqual(windowInForce(window, start), { startsAt: start, endsAt: start + 4 * HOUR });
    assert.deepEqual(windowInForce(window, start + 4 * HOUR - 1), { startsAt: start, endsAt: start + 4 * HOUR });
    assert.equal(windowInForce(window, start - 1), null, 'a millisecond before');
    assert.equal(windowInForce(window, start + 4 * HOUR), null, 'ends exclusive');
    assert.equal(windowInForce(window, start + 24 * HOUR), null, 'Sunday evening');
    assert.equal(nextStart(window, start - HOUR), start);
    assert.equal(nextStart(window, start), start + 7 * 24 * HOUR);
  });

  it('follows daylight saving time: in summer 22:00 Oslo is 20:00 UTC', () => {
    const summer = Date.UTC(2025, 6, 5, 20, 0, 0);
    assert.ok(windowInForce(window, summer));
    assert.equal(windowInForce(window, summer - MINUTE), null);
  });

  it('mutes matching alerts only while in force; muting() names what mutes', () => {
    const inForce = muting(start + HOUR, [], [window]);
    assert.equal(inForce.idle, false);
    assert.deepEqual(
      inForce.mutersOf(facts()).windows.map((w) => [w.name, w.endsAt]),
      [['saturday-reindex', start + 4 * HOUR]],
    );
    assert.ok(!inForce.isMuted(facts({ kind: 'failed' })), 'other kinds still mail');
    const notInForce = muting(start - HOUR, [], [window]);
    assert.equal(notInForce.idle, true);
    assert.ok(!notInForce.isMuted(facts()));
  });
});

describe('muting', () => {
  it('only active silences mute', () => {
    const m = muting(
      T0 + MINUTE,
      [silence(), silence({ id: 'later', startsAt: T0 + HOUR, endsAt: T0 + 2 * HOUR }), silence({ id: 'over', endsAt: T0 })],
      [],
    );
    assert.deepEqual(
      m.mutersOf(facts()).silences.map((s) => s.id),
      ['s1'],
    );
    assert.ok(!muting(T0 + HOUR, [silence()], []).isMuted(facts()));
  });
});

describe('episode ids', () => {
  it('episodeOf strips reminder, release and resolution suffixes, and only those', () => {
    const failed = failedEventId('sales', mailing);
    const again = failedEventId('sales', mailing, T0 + MINUTE);
    for (const episode of [failed, again, stalledEventId('sales', '4711', T0), 'sales:superoffice-down:1700000000000']) {
      assert.equal(episodeOf(episode), episode);
      assert.equal(episodeOf(repeatEventId(episode, 3)), episode);
      assert.equal(episodeOf(releaseEventId(episode, T0)), episode);
      assert.equal(episodeOf(resolvedEventId(episode)), episode);
    }
    assert.equal(episodeOf(failedEventId('sales', { ...mailing, startCount: null, lastStarted: null })), 'sales:failed:4711:-:-');
  });
});

const firing = (over: Partial<AlertEvent> = {}): AlertEvent => ({
  id: 'sales:stalled:4711:1',
  kind: 'stalled',
  alertKind: 'stalled',
  schedule: 'sales',
  subject: '4711',
  repeat: false,
  at: T0,
  since: T0,
  task: mailing,
  ...over,
});
const log = (over: Partial<EpisodeLog> = {}): EpisodeLog => ({ toldAt: null, firstMuted: false, ...over });
const ack = { author: 'alice', comment: 'on it', at: T0 };

describe('the mute verdict (at send time)', () => {
  const muted = muting(T0 + MINUTE, [silence()], []);
  const quiet = muting(T0 + MINUTE, [], []);

  it('a matching silence mutes a firing event and remembers it for release', () => {
    const verdict = muteVerdict(firing(), { muting: muted, ack: undefined, episode: log() });
    assert.equal(verdict.action, 'silence');
    assert.ok(verdict.action === 'silence' && verdict.remember && verdict.muters.silences[0]?.id === 's1');
    assert.deepEqual(muteVerdict(firing(), { muting: quiet, ack: undefined, episode: log() }), { action: 'send' });
  });

  it('a first event is mailed even when its episode is acknowledged; reminders and releases are not', () => {
    assert.deepEqual(muteVerdict(firing(), { muting: quiet, ack, episode: log() }), { action: 'send' });
    assert.deepEqual(muteVerdict(firing({ id: 'sales:stalled:4711:1:r1', repeat: true }), { muting: quiet, ack, episode: log() }), {
      action: 'acknowledged',
      ack,
    });
    assert.deepEqual(
      muteVerdict(firing({ id: 'sales:stalled:4711:1:u5', release: { mutedAt: 5 } }), { muting: muted, ack, episode: log() }),
      { action: 'acknowledged', ack },
    );
  });

  it('a release is dropped when its episode was mailed after it was muted (a retried job found the silence gone)', () => {
    const release = firing({ id: 'sales:stalled:4711:1:u100', release: { mutedAt: 100 } });
    assert.deepEqual(muteVerdict(release, { muting: quiet, ack: undefined, episode: log({ toldAt: 150 }) }), { action: 'already_told' });
    assert.deepEqual(muteVerdict(release, { muting: quiet, ack: undefined, episode: log({ toldAt: 50 }) }), { action: 'send' });
    assert.equal(
      muteVerdict(release, { muting: muted, ack: undefined, episode: log() }).action,
      'silence',
      'muted again: back into the muted alerts',
    );
  });

  it('a resolution: silenced when muted; dropped when its alert was muted and never told; else mailed', () => {
    const resolved = firing({ id: 'sales:stalled:4711:1:resolved', kind: 'resolved' });
    const mutedVerdict = muteVerdict(resolved, { muting: muted, ack: undefined, episode: log({ toldAt: 1 }) });
    assert.ok(mutedVerdict.action === 'silence' && !mutedVerdict.remember, 'a resolution is never remembered');
    const untold = muteVerdict(resolved, { muting: quiet, ack: undefined, episode: log({ firstMuted: true }) });
    assert.ok(untold.action === 'silence' && /never mailed/.test(untold.reason));
    assert.deepEqual(
      muteVerdict(resolved, { muting: quiet, ack: undefined, episode: log({ firstMuted: true, toldAt: 9 }) }),
      { action: 'send' },
      'released later',
    );
    assert.deepEqual(
      muteVerdict(resolved, { muting: quiet, ack: undefined, episode: log() }),
      { action: 'send' },
      'firing still queued, or before silences existed',
    );
  });
});

describe('evaluate with acknowledgements', () => {
  const r = rules({ repeatInterval: HOUR });
  const run = { startCount: 1, lastStarted: T0 };
  const stalledTask = task({ id: 7, state: 'Started', progressPercent: 40, ...run });

  function stalledSnapshot(): Snapshot {
    let snap = emptySnapshot('sales');
    snap = evaluate(snap, ok(stalledTask), T0, r).next;
    const fired = evaluate(snap, ok(stalledTask), T0 + 20 * MINUTE, r);
    assert.deepEqual(
      fired.events.map((e) => e.kind),
      ['stalled'],
    );
    return fired.next;
  }

  it('no reminders for an acknowledged episode; the alert is kept as it was; the resolution names the ack', () => {
    const snap = stalledSnapshot();
    const episode = snap.alerts[alertKey('stalled', '7')]!.eventId;
    const acks = { [episode]: ack };
    const later = evaluate(snap, ok(stalledTask), T0 + 3 * HOUR, r, acks);
    assert.deepEqual(later.events, []);
    assert.equal(later.next.alerts[alertKey('stalled', '7')], snap.alerts[alertKey('stalled', '7')], 'same object: nothing changed');
    assert.equal(evaluate(snap, ok(stalledTask), T0 + 3 * HOUR, r).events[0]?.repeat, true, 'without the ack: a reminder');
    const resolved = evaluate(later.next, ok({ ...stalledTask, progressPercent: 50 }), T0 + 4 * HOUR, r, acks);
    assert.deepEqual(
      resolved.events.map((e) => [e.kind, e.acknowledged]),
      [['resolved', ack]],
    );
    assert.equal(evaluate(later.next, ok({ ...stalledTask, progressPercent: 50 }), T0 + 4 * HOUR, r).events[0]?.acknowledged, undefined);
  });

  it('an ack of another episode changes nothing; superoffice-down reminders stop too', () => {
    const snap = stalledSnapshot();
    assert.equal(evaluate(snap, ok(stalledTask), T0 + 3 * HOUR, r, { 'sales:stalled:7:0': ack }).events.length, 1);
    let down = emptySnapshot('sales');
    for (let i = 0; i < 3; i++) down = evaluate(down, unreachable(), T0 + i * MINUTE, r).next;
    const episode = down.alerts[alertKey('superoffice-down', 'sales')]!.eventId;
    assert.deepEqual(evaluate(down, unreachable(), T0 + 3 * HOUR, r, { [episode]: ack }).events, []);
    assert.equal(evaluate(down, unreachable(), T0 + 3 * HOUR, r).events.length, 1);
  });
});

describe('release of muted alerts (at the poll)', () => {
  const r = rules({ repeatInterval: 0 });
  const stalledTask = task({ id: 7, name: 'FreeTextIndex', state: 'Started', progressPercent: 40, startCount: 1, lastStarted: T0 });
  let snap = evaluate(emptySnapshot('sales'), ok(stalledTask), T0, r).next;
  snap = evaluate(snap, ok(stalledTask), T0 + 20 * MINUTE, r).next;
  const alert = snap.alerts[alertKey('stalled', '7')]!;
  const entry: MutedAlert = {
    kind: 'stalled',
    subject: '7',
    episode: alert.eventId,
    eventId: alert.eventId,
    at: T0 + 20 * MINUTE,
    silences: ['s1'],
    windows: [],
  };
  const muted = { [alertKey('stalled', '7')]: entry };

  it('still muted: kept, nothing released', () => {
    const result = releaseMuted({
      next: snap,
      events: [],
      muted,
      muting: muting(T0 + 30 * MINUTE, [silence({ matchers: { taskId: 7 } })], []),
      acks: {},
    });
    assert.deepEqual([result.releases, result.done], [[], []]);
    assert.equal(result.next, snap);
  });

  it('silence over while it fires: one release with a deterministic id, the entry done', () => {
    const now = T0 + 2 * HOUR;
    const result = releaseMuted({
      next: snap,
      events: [],
      muted,
      muting: muting(now, [silence({ matchers: { taskId: 7 } })], []),
      acks: {},
    });
    assert.equal(result.releases.length, 1);
    const release = result.releases[0]!;
    assert.equal(release.id, releaseEventId(alert.eventId, entry.at));
    assert.deepEqual(
      [release.kind, release.alertKind, release.repeat, release.release, release.task?.id, release.since],
      ['stalled', 'stalled', false, { mutedAt: entry.at }, 7, T0],
    );
    assert.deepEqual(result.done, [alertKey('stalled', '7')]);
    assert.equal(result.next.alerts[alertKey('stalled', '7')]!.lastNotifiedAt, now, 'reminders count from the release');
    const again = releaseMuted({ next: snap, events: [], muted, muting: muting(now + MINUTE, [], []), acks: {} });
    assert.equal(again.releases[0]!.id, release.id, 'the same entry always gives the same id');
  });

  it('resolved or a new episode: the entry goes without a release', () => {
    const gone = releaseMuted({ next: { ...snap, alerts: {} }, events: [], muted, muting: muting(T0 + 2 * HOUR, [], []), acks: {} });
    assert.deepEqual([gone.releases, gone.done], [[], [alertKey('stalled', '7')]]);
    const other = releaseMuted({
      next: snap,
      events: [],
      muted: { [alertKey('stalled', '7')]: { ...entry, episode: 'sales:stalled:7:1' } },
      muting: muting(T0 + 2 * HOUR, [], []),
      acks: {},
    });
    assert.deepEqual([other.releases, other.done], [[], [alertKey('stalled', '7')]]);
  });

  it('a reminder in the same poll carries it; an acknowledged episode is not released', () => {
    const reminder = firing({ id: repeatEventId(alert.eventId, 1), subject: '7', repeat: true });
    const withReminder = releaseMuted({ next: snap, events: [reminder], muted, muting: muting(T0 + 5 * HOUR, [], []), acks: {} });
    assert.deepEqual([withReminder.releases, withReminder.done], [[], [alertKey('stalled', '7')]]);
    const acked = releaseMuted({ next: snap, events: [], muted, muting: muting(T0 + 5 * HOUR, [], []), acks: { [alert.eventId]: ack } });
    assert.deepEqual([acked.releases, acked.done], [[], [alertKey('stalled', '7')]]);
  });

  it('superoffice-down is released with its error and failure count', () => {
    let down = emptySnapshot('sales');
    for (let i = 0; i < 3; i++) down = evaluate(down, unreachable(), T0 + i * MINUTE, r).next;
    const downAlert = down.alerts[alertKey('superoffice-down', 'sales')]!;
    const result = releaseMuted({
      next: down,
      events: [],
      muted: {
        [alertKey('superoffice-down', 'sales')]: {
          ...entry,
          kind: 'superoffice-down',
          subject: 'sales',
          episode: downAlert.eventId,
          eventId: downAlert.eventId,
        },
      },
      muting: muting(T0 + HOUR, [], []),
      acks: {},
    });
    assert.deepEqual(
      [result.releases[0]?.kind, result.releases[0]?.consecutiveFailures, result.releases[0]?.error?.kind],
      ['superoffice-down', 3, 'transport'],
    );
  });
});

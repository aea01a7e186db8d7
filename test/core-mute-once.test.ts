import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AlertEvent } from '../src/core/model.ts';
import { muteVerdict, type EpisodeLog } from '../src/core/mute-decision.ts';
import { muting } from '../src/core/muting.ts';
import { HOUR, MINUTE, T0, task } from './helpers/tasks.ts';

const mailing = task({
  id: 4711,
  name: 'FreeTextIndex',
  associateId: 12,
  state: 'Started',
  progressPercent: 40,
  startCount: 1,
  lastStarted: T0,
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
const silenced = muting(
  T0 + MINUTE,
  [{ id: 's1', matchers: { taskId: 4711 }, startsAt: T0, endsAt: T0 + HOUR, comment: 'reindex', author: 'ops', createdAt: T0 }],
  [],
);
const quiet = muting(T0 + HOUR, [], []);

/** The mute verdict for events whose job is retried after its episode was told by another event (issue 14 review, defect A). */
describe('the mute verdict of a firing event whose episode was told meanwhile', () => {
  it('a first event whose episode was told (by its release) is dropped, muted or not; untold it is mailed or muted as before', () => {
    assert.deepEqual(muteVerdict(firing(), { muting: quiet, ack: undefined, episode: log({ firstMuted: false, toldAt: T0 + HOUR }) }), {
      action: 'already_told',
    });
    assert.deepEqual(
      muteVerdict(firing(), { muting: silenced, ack: undefined, episode: log({ toldAt: T0 + 2 * MINUTE }) }),
      { action: 'already_told' },
      'not remembered again',
    );
    assert.deepEqual(muteVerdict(firing(), { muting: quiet, ack: undefined, episode: log() }), { action: 'send' });
    assert.equal(muteVerdict(firing(), { muting: silenced, ack: undefined, episode: log() }).action, 'silence');
  });

  it('a reminder is dropped when its episode was told at or after it was made, and mailed when told only before', () => {
    const reminder = firing({ id: 'sales:stalled:4711:1:r1', repeat: true, at: T0 + HOUR });
    assert.deepEqual(muteVerdict(reminder, { muting: quiet, ack: undefined, episode: log({ toldAt: T0 + HOUR + MINUTE }) }), {
      action: 'already_told',
    });
    assert.deepEqual(muteVerdict(reminder, { muting: quiet, ack: undefined, episode: log({ toldAt: T0 + HOUR }) }), {
      action: 'already_told',
    });
    assert.deepEqual(
      muteVerdict(reminder, { muting: quiet, ack: undefined, episode: log({ toldAt: T0 }) }),
      { action: 'send' },
      'the previous mail: this is the reminder',
    );
  });
});

describe('the mute verdict of a resolution whose episode the notification log has forgotten', () => {
  const resolved = (acknowledged?: AlertEvent['acknowledged']): AlertEvent =>
    firing({ id: 'sales:stalled:4711:1:resolved', kind: 'resolved', at: T0 + 30 * 24 * HOUR, ...(acknowledged ? { acknowledged } : {}) });
  const ack = { author: 'bob', comment: 'vendor on it', at: T0 + MINUTE };

  it('acknowledged as untold (muted since its first event): silenced, nobody was told it fired', () => {
    const verdict = muteVerdict(resolved({ ...ack, untold: true }), { muting: quiet, ack: undefined, episode: log() });
    assert.ok(verdict.action === 'silence' && !verdict.remember && /never mailed/.test(verdict.reason));
  });

  it('acknowledged as untold but told since (the log says so): mailed; acknowledged after being told: mailed', () => {
    assert.deepEqual(
      muteVerdict(resolved({ ...ack, untold: true }), { muting: quiet, ack: undefined, episode: log({ toldAt: T0 + HOUR }) }),
      { action: 'send' },
    );
    assert.deepEqual(muteVerdict(resolved(ack), { muting: quiet, ack: undefined, episode: log() }), { action: 'send' });
  });
});

/** The pure evaluation of a poll: previous snapshot + tasks read -> next snapshot and the events to mail. */
import { RUNNING_STATES } from './task.ts';
import { ALERT_KINDS } from './model.ts';
import type {
  Acknowledgement,
  ActiveAlert,
  AlertEvent,
  AlertKind,
  BatchTaskInfo,
  Evaluation,
  PollError,
  PollOutcome,
  Rules,
  Snapshot,
  TaskRecord,
  UnreadableTask,
} from './model.ts';
import { alertKey, downEventId, failedEventId, repeatEventId, stalledEventId, stuckEventId } from './event-id.ts';
import { compareEvents, firingEvent, resolvedEvent, type EventFacts } from './events.ts';
import { diffTask, nextRecord, type TaskChange } from './task-diff.ts';
import { effectiveRules, type EffectiveTaskRules } from './task-rules.ts';
import { VANISHED, downEnd, failedEnd, stallEnd, stuckEnd } from './reasons.ts';

/** The schedule's acknowledgements, by the id of the episode (the event that started the alert). */
export type Acknowledgements = Readonly<Record<string, Acknowledgement>>;

/**
 * The alert state machine: (previous snapshot, poll outcome, now, rules, acknowledgements) -> (next snapshot, events).
 * Pure: no I/O, no clock; `prev` is not modified. `next.version` equals `prev.version` (the store bumps it).
 * A task record or alert that this poll did not change is the very same object in `next` as in `prev`, so
 * callers (the snapshot store, the metrics) find what changed by identity without comparing values.
 *
 * Decisions the product table leaves open:
 * - A failed poll leaves task records and task alerts as they are: no task events, no task reminders.
 *   On the next successful poll, the time from the last successful poll to this one is not counted
 *   towards stallAfter or queuedTimeout (carried-over timers of tasks without that alert move forward by
 *   it): a task is never declared stalled or stuck because batchwatch could not see it. The `since`
 *   of such a stall is therefore the shifted instant (observed time only).
 * - Event `since`: failed = the poll that saw the failure; stalled = progressSince; stuck = when the task
 *   was first seen in New for this run; reminders and resolutions carry their episode's `since`.
 * - A new failure while a failed alert is still active (Failed -> Started -> Failed) replaces the old
 *   episode without a resolution: the task did not recover, so no "resolved" mail is sent.
 * - A task first seen already Failed alerts only if LastStarted (else Created) lies within
 *   firstSeenWindow before now; a timestamp in the future (clock skew) counts as recent;
 *   firstSeenWindow 0 means never.
 * - A task that becomes ignored, or whose stallAfter/queuedTimeout becomes 0, has that alert cleared
 *   without a resolution. An active failed alert of a vanished task is dropped silently.
 * - superoffice-down `since` is the last successful poll (the outage began after it), or the poll at
 *   which it fired when there never was one. `Snapshot.lastError` is cleared by a successful poll.
 * - Durations never go negative: if the clock goes backwards nothing fires or repeats until it catches up.
 * - A task left out of a successful poll as unreadable keeps its previous record and its alerts exactly as
 *   they were (no events, no reminders, no resolution); a readable copy of the same id in that answer is
 *   ignored. When it is readable again it is compared with that kept record. If an unreadable task's own Id
 *   could not be read, no task counts as vanished in that poll: every absent task is kept the same way.
 * - A failed poll while the tenant reports maintenance (outcome.maintenance) is not an outage: it does not
 *   count towards unreachableAfter (consecutiveFailures stays as it was, so failures before and after a
 *   maintenance add up), fires no superoffice-down and sends no reminder of an active one, which is not
 *   resolved either. Task records and alerts are kept as on any failure, and the stall/stuck timers move
 *   forward over the maintenance as over an outage. `Snapshot.maintenance` says since when (the first
 *   failed poll of this maintenance, kept when the state changes from one maintenance state to another);
 *   a successful poll or a failure outside maintenance clears it.
 * - An acknowledged episode (acks, keyed by its event id) sends no reminders; the alert itself is kept as it
 *   was (lastNotifiedAt and repeats unchanged). Its resolution carries the acknowledgement (who, why, when).
 *   Acknowledgements of other episodes are ignored; removing them is the caller's business.
 */
export function evaluate(prev: Snapshot, outcome: PollOutcome, now: number, rules: Rules, acks: Acknowledgements = {}): Evaluation {
  const result = outcome.ok
    ? afterSuccess(prev, outcome.tasks, outcome.unreadable ?? [], now, rules, acks)
    : outcome.maintenance
      ? duringMaintenance(prev, outcome.error, outcome.maintenance.state, now)
      : afterFailure(prev, outcome.error, now, rules, acks);
  result.events.sort(compareEvents);
  return result;
}

/** Collects the next alerts and the events of one evaluation. */
class Transition {
  readonly alerts: Record<string, ActiveAlert> = {};
  readonly events: AlertEvent[] = [];

  constructor(
    private readonly schedule: string,
    private readonly now: number,
    private readonly rules: Rules,
    private readonly acks: Acknowledgements,
  ) {}

  fire(kind: AlertKind, subject: string, eventId: string, facts: EventFacts): void {
    const alert: ActiveAlert = { kind, subject, eventId, firedAt: this.now, lastNotifiedAt: this.now, repeats: 0 };
    this.alerts[alertKey(kind, subject)] = alert;
    this.events.push(firingEvent(this.schedule, this.now, alert, eventId, false, facts));
  }

  /** Keeps an alert that is still firing, with a reminder when repeatInterval has passed (never for failed, never when acknowledged). */
  keep(alert: ActiveAlert, facts: EventFacts): void {
    const interval = this.rules.repeatInterval;
    let kept = alert;
    const acknowledged = Object.hasOwn(this.acks, alert.eventId);
    if (alert.kind !== 'failed' && !acknowledged && interval > 0 && this.now - alert.lastNotifiedAt >= interval) {
      kept = { ...alert, lastNotifiedAt: this.now, repeats: alert.repeats + 1 };
      this.events.push(firingEvent(this.schedule, this.now, kept, repeatEventId(alert.eventId, kept.repeats), true, facts));
    }
    this.alerts[alertKey(alert.kind, alert.subject)] = kept;
  }

  resolve(alert: ActiveAlert, reason: string, facts: EventFacts): void {
    if (!this.rules.sendResolved) return;
    const event = resolvedEvent(this.schedule, this.now, alert, reason, facts);
    const ack = Object.hasOwn(this.acks, alert.eventId) ? this.acks[alert.eventId] : undefined;
    if (ack) event.acknowledged = { author: ack.author, comment: ack.comment, at: ack.at, ...(ack.untold ? { untold: true } : {}) };
    this.events.push(event);
  }
}

function afterFailure(prev: Snapshot, error: PollError, now: number, rules: Rules, acks: Acknowledgements): Evaluation {
  const failures = prev.consecutiveFailures + 1;
  const t = new Transition(prev.schedule, now, rules, acks);
  for (const [key, alert] of Object.entries(prev.alerts)) {
    if (alert.kind !== 'superoffice-down') t.alerts[key] = alert;
  }
  const active = prev.alerts[alertKey('superoffice-down', prev.schedule)];
  if (active) {
    t.keep(active, { since: prev.lastSuccessAt ?? active.firedAt, error, consecutiveFailures: failures });
  } else if (failures >= Math.max(1, rules.unreachableAfter)) {
    const anchor = prev.lastSuccessAt ?? now;
    t.fire('superoffice-down', prev.schedule, downEventId(prev.schedule, anchor), { since: anchor, error, consecutiveFailures: failures });
  }
  return {
    next: {
      ...prev,
      tasks: { ...prev.tasks },
      alerts: t.alerts,
      consecutiveFailures: failures,
      lastPollAt: now,
      lastError: error,
      maintenance: null,
    },
    events: t.events,
  };
}

function duringMaintenance(prev: Snapshot, error: PollError, state: string, now: number): Evaluation {
  return {
    next: {
      ...prev,
      tasks: { ...prev.tasks },
      alerts: { ...prev.alerts },
      lastPollAt: now,
      lastError: error,
      maintenance: { state, since: prev.maintenance?.since ?? now },
    },
    events: [],
  };
}

function afterSuccess(
  prev: Snapshot,
  polled: BatchTaskInfo[],
  unreadable: readonly UnreadableTask[],
  now: number,
  rules: Rules,
  acks: Acknowledgements,
): Evaluation {
  const t = new Transition(prev.schedule, now, rules, acks);
  const down = prev.alerts[alertKey('superoffice-down', prev.schedule)];
  if (down) {
    t.resolve(down, downEnd(prev.consecutiveFailures), {
      since: prev.lastSuccessAt ?? down.firedAt,
      error: prev.lastError,
      consecutiveFailures: prev.consecutiveFailures,
    });
  }

  // Time batchwatch could not see the tasks (an outage or a maintenance) does not count towards their timers.
  const blind = prev.consecutiveFailures > 0 || prev.maintenance !== null;
  const outage = blind && prev.lastSuccessAt !== null ? Math.max(0, now - prev.lastSuccessAt) : 0;
  const current = latestById(polled);
  const tasks: Record<string, TaskRecord> = {};
  const kept = keptUnchanged(prev, current, unreadable);
  for (const id of kept) {
    current.delete(id);
    const record = prev.tasks[id];
    if (record) tasks[id] = record;
  }
  for (const [key, alert] of Object.entries(prev.alerts)) {
    if (alert.kind !== 'superoffice-down' && kept.has(alert.subject)) t.alerts[key] = alert;
  }
  const alertsBySubject = taskAlertIndex(prev.alerts);
  for (const [id, task] of current) {
    const before = prev.tasks[id];
    const alerts = alertsBySubject.get(id) ?? NO_TASK_ALERTS;
    const change = diffTask(before, task);
    const record = nextRecord(before, task, change, now, {
      progress: alerts.stalled ? 0 : outage,
      state: task.state === 'New' && !alerts.stuck ? outage : 0,
    });
    tasks[id] = record;
    const taskRules = effectiveRules(task.name, rules);
    if (taskRules.ignore) continue;
    const step: TaskStep = { id, before, task, change, record, rules: taskRules };
    checkFailed(t, prev.schedule, now, rules, step, alerts.failed);
    checkStalled(t, prev.schedule, now, step, alerts.stalled);
    checkStuck(t, prev.schedule, now, step, alerts.stuck);
  }

  for (const alert of Object.values(prev.alerts)) {
    if (alert.kind === 'superoffice-down' || alert.kind === 'failed' || current.has(alert.subject) || kept.has(alert.subject)) continue;
    const before = prev.tasks[alert.subject];
    if (before && !watches(alert.kind, effectiveRules(before.task.name, rules))) continue;
    const since = before ? (alert.kind === 'stalled' ? before.progressSince : before.stateSince) : alert.firedAt;
    t.resolve(alert, VANISHED, { since, task: before?.task });
  }

  return {
    next: {
      ...prev,
      tasks,
      alerts: t.alerts,
      consecutiveFailures: 0,
      lastPollAt: now,
      lastSuccessAt: now,
      lastError: null,
      maintenance: null,
    },
    events: t.events,
  };
}

interface TaskStep {
  id: string;
  before: TaskRecord | undefined;
  task: BatchTaskInfo;
  change: TaskChange;
  record: TaskRecord;
  rules: EffectiveTaskRules;
}

function checkFailed(t: Transition, schedule: string, now: number, rules: Rules, s: TaskStep, active: ActiveAlert | undefined): void {
  const fires =
    s.task.state === 'Failed' &&
    (s.before ? s.before.task.state !== 'Failed' || s.change.newRun : failedRecently(s.task, now, rules.firstSeenWindow));
  if (fires) {
    let eventId = failedEventId(schedule, s.task);
    if (active && (active.eventId === eventId || active.eventId.startsWith(`${eventId}:`))) {
      eventId = failedEventId(schedule, s.task, s.before?.stateSince ?? now);
    }
    t.fire('failed', s.id, eventId, { since: s.record.stateSince, task: s.task });
    return;
  }
  if (!active) return;
  const reason = failedEnd(s.task);
  if (reason) t.resolve(active, reason, { since: active.firedAt, task: s.task });
  else t.keep(active, { since: active.firedAt, task: s.task });
}

function checkStalled(t: Transition, schedule: string, now: number, s: TaskStep, active: ActiveAlert | undefined): void {
  if (!watches('stalled', s.rules)) return;
  const running = RUNNING_STATES.includes(s.task.state);
  if (active) {
    const reason = stallEnd(s.before, s.task, s.change, running);
    if (!reason) {
      t.keep(active, { since: s.record.progressSince, task: s.task });
      return;
    }
    t.resolve(active, reason, { since: s.before?.progressSince ?? active.firedAt, task: s.task });
  }
  if (running && now - s.record.progressSince >= s.rules.stallAfter) {
    t.fire('stalled', s.id, stalledEventId(schedule, s.id, s.record.progressSince), { since: s.record.progressSince, task: s.task });
  }
}

function checkStuck(t: Transition, schedule: string, now: number, s: TaskStep, active: ActiveAlert | undefined): void {
  if (!watches('stuck', s.rules)) return;
  if (active) {
    const reason = stuckEnd(s.before, s.task, s.change);
    if (!reason) {
      t.keep(active, { since: s.record.stateSince, task: s.task });
      return;
    }
    t.resolve(active, reason, { since: s.before?.stateSince ?? active.firedAt, task: s.task });
  }
  if (s.task.state === 'New' && now - s.record.stateSince >= s.rules.queuedTimeout) {
    t.fire('stuck', s.id, stuckEventId(schedule, s.id, s.record.stateSince), { since: s.record.stateSince, task: s.task });
  }
}

function watches(kind: AlertKind, rules: EffectiveTaskRules): boolean {
  if (rules.ignore) return false;
  if (kind === 'stalled') return rules.stallAfter > 0;
  if (kind === 'stuck') return rules.queuedTimeout > 0;
  return true;
}

function failedRecently(task: BatchTaskInfo, now: number, window: number): boolean {
  const started = task.lastStarted ?? task.created;
  return started !== null && window > 0 && Math.max(0, now - started) <= window;
}

type TaskAlerts = Partial<Record<TaskAlertKind, ActiveAlert>>;
type TaskAlertKind = Exclude<AlertKind, 'superoffice-down'>;

const TASK_ALERT_KINDS = ALERT_KINDS.filter((kind): kind is TaskAlertKind => kind !== 'superoffice-down');
const NO_TASK_ALERTS: TaskAlerts = Object.freeze({});

/**
 * The previous alerts of each task, by task id: what `prev.alerts[alertKey(kind, id)]` gives for each task
 * alert kind, found in one pass over the alerts instead of three key lookups per polled task (most tasks
 * have no alert, and at 100,000 tasks building and hashing 300,000 keys was most of evaluate's time).
 */
function taskAlertIndex(alerts: Readonly<Record<string, ActiveAlert>>): Map<string, TaskAlerts> {
  const index = new Map<string, TaskAlerts>();
  for (const [key, alert] of Object.entries(alerts)) {
    for (const kind of TASK_ALERT_KINDS) {
      const prefix = alertKey(kind, '');
      if (!key.startsWith(prefix)) continue;
      const subject = key.slice(prefix.length);
      let entry = index.get(subject);
      if (!entry) {
        entry = {};
        index.set(subject, entry);
      }
      entry[kind] = alert;
    }
  }
  return index;
}

/**
 * Task ids whose record and alerts stay as they were: those of unreadable tasks, and, when an unreadable task
 * could not even be identified, every task absent from the answer (it may be that one: it has not vanished).
 */
function keptUnchanged(prev: Snapshot, current: Map<string, BatchTaskInfo>, unreadable: readonly UnreadableTask[]): Set<string> {
  const kept = new Set<string>();
  let unidentified = false;
  for (const task of unreadable) {
    if (task.id === null) unidentified = true;
    else kept.add(String(task.id));
  }
  if (unidentified) {
    for (const id of Object.keys(prev.tasks)) if (!current.has(id)) kept.add(id);
    for (const alert of Object.values(prev.alerts)) {
      if (alert.kind !== 'superoffice-down' && !current.has(alert.subject)) kept.add(alert.subject);
    }
  }
  return kept;
}

/** One task per id, the last occurrence in the response winning, in ascending id order. */
function latestById(polled: BatchTaskInfo[]): Map<string, BatchTaskInfo> {
  const byId = new Map<number, BatchTaskInfo>();
  for (const task of polled) byId.set(task.id, task);
  // Ids are integers: a typed array sorts them natively, without a comparator call per comparison.
  const ids = Float64Array.from(byId.keys()).sort();
  const out = new Map<string, BatchTaskInfo>();
  for (const id of ids) out.set(String(id), byId.get(id)!);
  return out;
}

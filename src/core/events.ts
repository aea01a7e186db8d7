/** Builds alert events (firing, reminder, resolved) and their fixed order in a batch. */
import { ALERT_KINDS, type ActiveAlert, type AlertEvent, type BatchTaskInfo, type PollError } from './model.ts';
import { resolvedEventId } from './event-id.ts';

export interface EventFacts {
  since: number;
  task?: BatchTaskInfo | undefined;
  error?: PollError | null | undefined;
  consecutiveFailures?: number | undefined;
}

/** A firing event (first notification or repeat reminder) for `alert`. */
export function firingEvent(schedule: string, at: number, alert: ActiveAlert, id: string, repeat: boolean, facts: EventFacts): AlertEvent {
  return withFacts(
    { id, kind: alert.kind, alertKind: alert.kind, schedule, subject: alert.subject, repeat, at, since: Math.min(facts.since, at) },
    facts,
  );
}

export function resolvedEvent(schedule: string, at: number, alert: ActiveAlert, reason: string, facts: EventFacts): AlertEvent {
  const event = withFacts(
    {
      id: resolvedEventId(alert.eventId),
      kind: 'resolved',
      alertKind: alert.kind,
      schedule,
      subject: alert.subject,
      repeat: false,
      at,
      since: Math.min(facts.since, at),
    },
    facts,
  );
  event.reason = reason;
  return event;
}

/** Optional fields are left out rather than set to undefined, so equal events serialize and compare equal. */
function withFacts(event: AlertEvent, facts: EventFacts): AlertEvent {
  if (facts.task) event.task = facts.task;
  if (facts.error) event.error = facts.error;
  if (facts.consecutiveFailures !== undefined) event.consecutiveFailures = facts.consecutiveFailures;
  return event;
}

/** Firing (and reminders) before resolutions; the schedule's own alert first, then by task id, kind, id. */
export function compareEvents(a: AlertEvent, b: AlertEvent): number {
  return (
    Number(a.kind === 'resolved') - Number(b.kind === 'resolved') ||
    Number(a.alertKind !== 'superoffice-down') - Number(b.alertKind !== 'superoffice-down') ||
    compareSubjects(a.subject, b.subject) ||
    ALERT_KINDS.indexOf(a.alertKind) - ALERT_KINDS.indexOf(b.alertKind) ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

function compareSubjects(a: string, b: string): number {
  const x = Number(a);
  const y = Number(b);
  if (Number.isFinite(x) && Number.isFinite(y) && x !== y) return x - y;
  return a < b ? -1 : a > b ? 1 : 0;
}

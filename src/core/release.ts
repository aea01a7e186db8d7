/**
 * Release at silence end: an alert that was muted (not mailed because a silence or maintenance window
 * matched) and still fires once nothing mutes it any more is told then, once. Pure: the poll gives it the
 * schedule's muted alerts, the snapshot it is about to commit, this poll's events and what mutes now.
 *
 * Exactly once: the release event's id is derived from the stored muted entry ({episode}:u{mutedAt}), the
 * poll commits the release together with the removal of that entry (compare-and-set on the snapshot), and
 * the notification log deduplicates the id, so a second replica or a restart cannot release it twice.
 */
import type { Acknowledgements } from './evaluate.ts';
import { alertKey, releaseEventId } from './event-id.ts';
import { firingEvent, type EventFacts } from './events.ts';
import type { ActiveAlert, AlertEvent, AlertKind, Snapshot } from './model.ts';
import type { AlertFacts } from './matchers.ts';
import type { Muting } from './muting.ts';

/** An alert the notifier muted and has not told since: kept per schedule by alert key until released or gone. */
export interface MutedAlert {
  kind: AlertKind;
  subject: string;
  /** The episode (ActiveAlert.eventId). */
  episode: string;
  /** The event that was muted first (the episode's first event, a reminder or an earlier release). */
  eventId: string;
  /** When it was muted (unix ms); names the release (see event-id.ts). */
  at: number;
  /** Ids of the silences and names of the maintenance windows that muted it. */
  silences: string[];
  windows: string[];
}

export interface ReleaseInput {
  /** The snapshot this poll commits. */
  next: Snapshot;
  /** The events this poll emits. */
  events: readonly AlertEvent[];
  /** The schedule's muted alerts, by alert key. */
  muted: Readonly<Record<string, MutedAlert>>;
  /** What mutes at this poll's instant. */
  muting: Muting;
  acks: Acknowledgements;
}

export interface ReleaseResult {
  /** Release events to add to this poll's batch. */
  releases: AlertEvent[];
  /** Alert keys whose muted entries this poll removes (released, or no longer relevant). */
  done: string[];
  /** `next` with the released alerts' lastNotifiedAt moved to now (reminders count from the release). */
  next: Snapshot;
}

/**
 * For each muted alert: gone, or a new episode -> entry removed (an alert that resolved while muted was never
 * told, and its resolution is dropped by the notifier); this poll already emits an event for it (a reminder)
 * -> entry removed, that event carries it (and is muted again if it must be); acknowledged -> entry removed,
 * someone is on it; still muted -> kept; otherwise released: one event, entry removed.
 */
export function releaseMuted(input: ReleaseInput): ReleaseResult {
  const { next, muting } = input;
  const now = muting.now;
  const releases: AlertEvent[] = [];
  const done: string[] = [];
  let alerts: Record<string, ActiveAlert> | null = null;
  for (const [key, entry] of Object.entries(input.muted)) {
    const alert = next.alerts[key];
    if (!alert || alert.eventId !== entry.episode || key !== alertKey(entry.kind, entry.subject)) {
      done.push(key);
      continue;
    }
    const told = input.events.some(
      (event) => event.kind !== 'resolved' && event.alertKind === alert.kind && event.subject === alert.subject,
    );
    if (told || Object.hasOwn(input.acks, alert.eventId)) {
      done.push(key);
      continue;
    }
    const facts = alertEventFacts(next, alert);
    if (muting.isMuted(alertFacts(next, alert))) continue;
    const event = firingEvent(next.schedule, now, alert, releaseEventId(alert.eventId, entry.at), false, facts);
    event.release = { mutedAt: entry.at };
    releases.push(event);
    done.push(key);
    alerts ??= { ...next.alerts };
    alerts[key] = { ...alert, lastNotifiedAt: Math.max(alert.lastNotifiedAt, now) };
  }
  return { releases, done, next: alerts ? { ...next, alerts } : next };
}

/** The facts silences and windows match an active alert on: its schedule, kind and task as last seen. */
export function alertFacts(snapshot: Snapshot, alert: ActiveAlert): AlertFacts {
  return {
    schedule: snapshot.schedule,
    kind: alert.kind,
    task: alert.kind === 'superoffice-down' ? undefined : snapshot.tasks[alert.subject]?.task,
  };
}

/** The facts a (re)notification of a still-active alert carries, as evaluate() gives them to its reminders. */
function alertEventFacts(snapshot: Snapshot, alert: ActiveAlert): EventFacts {
  if (alert.kind === 'superoffice-down') {
    return { since: snapshot.lastSuccessAt ?? alert.firedAt, error: snapshot.lastError, consecutiveFailures: snapshot.consecutiveFailures };
  }
  const record = snapshot.tasks[alert.subject];
  const since = !record || alert.kind === 'failed' ? alert.firedAt : alert.kind === 'stalled' ? record.progressSince : record.stateSince;
  return { since, task: record?.task };
}

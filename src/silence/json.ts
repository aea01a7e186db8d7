/** The JSON shapes of silences, maintenance windows and alerts, as the API answers and `silence list --json` prints them (times as ISO-8601 UTC). */
import { formatDuration } from '../config/duration.ts';
import { associateLabel } from '../core/task.ts';
import type { AckResult, AlertView, SilenceView, WindowView } from './controls.ts';

/** A time as ISO-8601 UTC for the API's answers; null for none. */
export const isoOrNull = (ms: number | null | undefined): string | null =>
  ms === null || ms === undefined ? null : new Date(ms).toISOString();

export function silenceJson(silence: SilenceView) {
  return {
    id: silence.id,
    state: silence.state,
    matchers: silence.matchers,
    startsAt: isoOrNull(silence.startsAt),
    endsAt: isoOrNull(silence.endsAt),
    comment: silence.comment,
    author: silence.author,
    createdAt: isoOrNull(silence.createdAt),
    ...(silence.expiredAt !== undefined ? { expiredAt: isoOrNull(silence.expiredAt), expiredBy: silence.expiredBy ?? null } : {}),
  };
}

export function windowJson(window: WindowView) {
  return {
    name: window.name,
    cron: window.cron,
    tz: window.tz,
    duration: formatDuration(window.duration),
    match: window.match,
    inForce: window.inForce !== null,
    ...(window.inForce ? { startsAt: isoOrNull(window.inForce.startsAt), endsAt: isoOrNull(window.inForce.endsAt) } : {}),
    nextStart: isoOrNull(window.nextStart),
  };
}

export function alertJson(view: AlertView) {
  const { alert, task } = view;
  return {
    schedule: view.schedule,
    kind: alert.kind,
    episode: alert.eventId,
    firedAt: isoOrNull(alert.firedAt),
    lastNotifiedAt: isoOrNull(alert.lastNotifiedAt),
    task: task
      ? {
          id: task.id,
          name: task.name,
          associate: associateLabel(task.associateId),
          associateId: task.associateId,
          state: task.state,
          progressPercent: task.progressPercent,
        }
      : null,
    silencedBy: view.silencedBy.map((m) => ({ ...m, endsAt: isoOrNull(m.endsAt) })),
    acknowledged: view.acknowledged ? { ...view.acknowledged, at: isoOrNull(view.acknowledged.at) } : null,
    mutedSince: isoOrNull(view.mutedSince),
  };
}

export function ackJson(result: AckResult) {
  return { schedule: result.schedule, kind: result.kind, episode: result.episode };
}

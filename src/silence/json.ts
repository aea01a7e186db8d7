/** The JSON shapes of silences, maintenance windows and alerts, as the API answers and `silence list --json` prints them (times as ISO-8601 UTC). */
import { formatDuration } from '../config/duration.ts';
import { associateLabel } from '../core/task.ts';
import type { AckResult, AlertView, SilenceView, WindowView } from './controls.ts';

const iso = (ms: number | null | undefined): string | null => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

export function silenceJson(silence: SilenceView) {
  return {
    id: silence.id,
    state: silence.state,
    matchers: silence.matchers,
    startsAt: iso(silence.startsAt),
    endsAt: iso(silence.endsAt),
    comment: silence.comment,
    author: silence.author,
    createdAt: iso(silence.createdAt),
    ...(silence.expiredAt !== undefined ? { expiredAt: iso(silence.expiredAt), expiredBy: silence.expiredBy ?? null } : {}),
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
    ...(window.inForce ? { startsAt: iso(window.inForce.startsAt), endsAt: iso(window.inForce.endsAt) } : {}),
    nextStart: iso(window.nextStart),
  };
}

export function alertJson(view: AlertView) {
  const { alert, task } = view;
  return {
    schedule: view.schedule,
    kind: alert.kind,
    episode: alert.eventId,
    firedAt: iso(alert.firedAt),
    lastNotifiedAt: iso(alert.lastNotifiedAt),
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
    silencedBy: view.silencedBy.map((m) => ({ ...m, endsAt: iso(m.endsAt) })),
    acknowledged: view.acknowledged ? { ...view.acknowledged, at: iso(view.acknowledged.at) } : null,
    mutedSince: iso(view.mutedSince),
  };
}

export function ackJson(result: AckResult) {
  return { schedule: result.schedule, kind: result.kind, episode: result.episode };
}

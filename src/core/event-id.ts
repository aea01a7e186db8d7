import type { AlertKind, BatchTaskInfo } from './model.ts';

/**
 * Every event id batchwatch emits, in one place.
 *
 * An id names an alert *episode*, built only from facts that stay the same while the episode lasts
 * (the task's run markers, the instant its timer started, the last successful poll), never from the
 * time it happened to be detected. Evaluating the same snapshot and poll twice, e.g. after a crash
 * between detection and the snapshot write, therefore yields the same ids, and the notification
 * log can deduplicate on them.
 *
 *   failed            {schedule}:failed:{taskId}:{startCount|-}:{lastStarted|-}
 *                     (a second failure of the same run while the first is still active gets
 *                      ":{instant the task left Failed}" appended so that it stays distinct)
 *   stalled           {schedule}:stalled:{taskId}:{progressSince}
 *   stuck             {schedule}:stuck:{taskId}:{newSince}
 *   superoffice-down  {schedule}:superoffice-down:{lastSuccessAt, or the firing poll if none}
 *   repeat reminder   {episode id}:r{n}          n = 1, 2, ...
 *   release           {episode id}:u{mutedAt}    the alert was muted (by a silence or maintenance window)
 *                                                since mutedAt, which is stored with the muted alert, and is
 *                                                told now that nothing mutes it any more (src/core/release.ts)
 *   resolution        {episode id}:resolved
 *
 * Times are epoch milliseconds. Schedule names are [a-z0-9-] and task ids are integers, so the
 * separators are unambiguous.
 */

/** `leftFailedAt`: only for a repeated failure of the same run (see above). */
export function failedEventId(schedule: string, task: BatchTaskInfo, leftFailedAt?: number): string {
  const base = `${schedule}:failed:${task.id}:${task.startCount ?? '-'}:${task.lastStarted ?? '-'}`;
  return leftFailedAt === undefined ? base : `${base}:${leftFailedAt}`;
}

export function stalledEventId(schedule: string, taskId: string, progressSince: number): string {
  return `${schedule}:stalled:${taskId}:${progressSince}`;
}

export function stuckEventId(schedule: string, taskId: string, newSince: number): string {
  return `${schedule}:stuck:${taskId}:${newSince}`;
}

export function downEventId(schedule: string, anchor: number): string {
  return `${schedule}:superoffice-down:${anchor}`;
}

export function repeatEventId(episodeId: string, n: number): string {
  return `${episodeId}:r${n}`;
}

export function resolvedEventId(episodeId: string): string {
  return `${episodeId}:resolved`;
}

export function releaseEventId(episodeId: string, mutedAt: number): string {
  return `${episodeId}:u${mutedAt}`;
}

const EPISODE_SUFFIX = /:(?:r\d+|u\d+|resolved)$/;

/**
 * The episode an event belongs to: its own id for the event that started it, else the id without the
 * reminder, release or resolution suffix. Episode ids never end in such a suffix (their last part is a
 * number or '-'), so this is exact.
 */
export function episodeOf(eventId: string): string {
  return eventId.replace(EPISODE_SUFFIX, '');
}

/** Key of an active alert in `Snapshot.alerts`: one alert per kind and subject. */
export function alertKey(kind: AlertKind, subject: string): string {
  return `${kind}:${subject}`;
}

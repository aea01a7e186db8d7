/**
 * Maintenance windows: silences that recur, from the config (`maintenance:`). A window starts at each time
 * its cron expression names (read in its time zone, with cron-parser, the library BullMQ schedules with)
 * and lasts `duration`. Pure: the clock is an argument.
 */
import { CronExpressionParser } from 'cron-parser';
import type { AlertMatchers } from './matchers.ts';

export interface MaintenanceWindow {
  name: string;
  cron: string;
  /** IANA zone the cron expression is read in (default UTC). */
  tz: string;
  /** Milliseconds, > 0. */
  duration: number;
  /** Empty: every alert. */
  match: AlertMatchers;
}

/** One occurrence of a window. */
export interface WindowOccurrence {
  startsAt: number;
  endsAt: number;
}

/**
 * The occurrence in force at `now`: the latest start at or before `now`, if `now` is before its end.
 * (Only the latest start counts: a window longer than its cron period is simply always in force.)
 */
export function windowInForce(window: MaintenanceWindow, now: number): WindowOccurrence | null {
  const startsAt = latestStart(window, now);
  if (startsAt === null) return null;
  const endsAt = startsAt + window.duration;
  return now < endsAt ? { startsAt, endsAt } : null;
}

/** The first start after `now`, or null when the expression names no later time. */
export function nextStart(window: MaintenanceWindow, now: number): number | null {
  try {
    const dates = CronExpressionParser.parse(window.cron, { currentDate: new Date(now), tz: window.tz });
    return dates.hasNext() ? dates.next().getTime() : null;
  } catch {
    return null;
  }
}

function latestStart(window: MaintenanceWindow, now: number): number | null {
  try {
    // prev() is strictly before currentDate: one millisecond later makes a start at exactly `now` count.
    const dates = CronExpressionParser.parse(window.cron, { currentDate: new Date(now + 1), tz: window.tz });
    return dates.hasPrev() ? dates.prev().getTime() : null;
  } catch {
    // The config check rejects expressions cron-parser cannot read; a window that still fails is never in force.
    return null;
  }
}

/** Silences: stop mail for matching alerts for a while. The model and its states, computed from a given clock. */
import type { AlertMatchers } from './matchers.ts';

export interface Silence {
  /** Random, unique (a UUID). */
  id: string;
  /** At least one; ANDed. */
  matchers: AlertMatchers;
  /** Unix ms; the silence is in force from startsAt (inclusive) to endsAt (exclusive). */
  startsAt: number;
  endsAt: number;
  comment: string;
  author: string;
  createdAt: number;
  /** Set when someone ended it early (`silence expire`, DELETE); endsAt is then that moment. */
  expiredAt?: number;
  /** Who ended it early. */
  expiredBy?: string;
}

/** The one list of silence states (metrics label values, API, CLI). */
export const SILENCE_STATES = ['active', 'pending', 'expired'] as const;
export type SilenceState = (typeof SILENCE_STATES)[number];

export function silenceState(silence: Pick<Silence, 'startsAt' | 'endsAt'>, now: number): SilenceState {
  if (now >= silence.endsAt) return 'expired';
  return now < silence.startsAt ? 'pending' : 'active';
}

export function isActive(silence: Pick<Silence, 'startsAt' | 'endsAt'>, now: number): boolean {
  return silenceState(silence, now) === 'active';
}

/** Counts by state, every state present (for a gauge). */
export function countByState(silences: readonly Silence[], now: number): Record<SilenceState, number> {
  const counts: Record<SilenceState, number> = { active: 0, pending: 0, expired: 0 };
  for (const silence of silences) counts[silenceState(silence, now)] += 1;
  return counts;
}

/** A silence ended early at `now` (a pending one ends before it starts); one already over is returned unchanged. */
export function expireSilence(silence: Silence, now: number, by: string): Silence {
  if (silenceState(silence, now) === 'expired') return silence;
  return { ...silence, startsAt: Math.min(silence.startsAt, now), endsAt: now, expiredAt: now, expiredBy: by };
}

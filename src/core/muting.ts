/** What mutes an alert at one instant: the silences and maintenance windows in force that match it. Pure. */
import { windowInForce, type MaintenanceWindow } from './maintenance-windows.ts';
import { matchesAlert, type AlertFacts } from './matchers.ts';
import { isActive, type Silence } from './silences.ts';

/** A maintenance window while it is in force. */
export interface WindowInForce {
  name: string;
  startsAt: number;
  endsAt: number;
  window: MaintenanceWindow;
}

export interface Muters {
  silences: Silence[];
  windows: WindowInForce[];
}

/** Answers, for an alert's facts, which silences and windows mute it at the instant it was made for. */
export interface Muting {
  readonly now: number;
  /** Nothing is in force: no alert is muted (callers may skip work). */
  readonly idle: boolean;
  mutersOf(facts: AlertFacts): Muters;
  isMuted(facts: AlertFacts): boolean;
}

export function muting(now: number, silences: readonly Silence[], windows: readonly MaintenanceWindow[]): Muting {
  const activeSilences = silences.filter((silence) => isActive(silence, now));
  const inForce: WindowInForce[] = [];
  for (const window of windows) {
    const occurrence = windowInForce(window, now);
    if (occurrence) inForce.push({ name: window.name, ...occurrence, window });
  }
  const mutersOf = (facts: AlertFacts): Muters => ({
    silences: activeSilences.filter((silence) => matchesAlert(silence.matchers, facts)),
    windows: inForce.filter((w) => matchesAlert(w.window.match, facts)),
  });
  return {
    now,
    idle: activeSilences.length === 0 && inForce.length === 0,
    mutersOf,
    isMuted: (facts) => isMutedBy(mutersOf(facts)),
  };
}

/** `silence 1b2c… (ops: "reindex tonight") until …; maintenance window saturday-reindex until …` for logs and history. */
export function describeMuters(muters: Muters): string {
  const parts = [
    ...muters.silences.map((s) => `silence ${s.id} by ${s.author} until ${new Date(s.endsAt).toISOString()}: ${s.comment}`),
    ...muters.windows.map((w) => `maintenance window ${w.name} until ${new Date(w.endsAt).toISOString()}`),
  ];
  return parts.join('; ');
}

export function isMutedBy(muters: Muters): boolean {
  return muters.silences.length > 0 || muters.windows.length > 0;
}

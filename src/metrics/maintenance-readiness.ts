/** A /readyz note per schedule whose tenant is in planned maintenance (shown, never a reason to be unready). */
import type { Snapshot } from '../core/model.ts';
import type { ReadinessCheck, ReadinessVerdict } from './readiness.ts';
import { withTimeout } from './timeout.ts';

export interface MaintenanceCheckOptions {
  /** The ContextIdentifier, for the note. */
  tenant: string;
  /** Default 1 s: a read that takes longer adds no note (the Redis check reports Redis itself). */
  timeoutMs?: number;
  /** Default 5 s: readiness probes come often, the snapshots are read at most this often. */
  maxAgeMs?: number;
  now?: () => number;
}

/** The notes for these snapshots, one per schedule in maintenance. */
export function maintenanceNotes(snapshots: readonly Snapshot[], tenant: string): ReadinessVerdict[] {
  return snapshots.flatMap((snapshot) => {
    const maintenance = snapshot.maintenance;
    if (!maintenance) return [];
    const since = new Date(maintenance.since).toISOString();
    return [
      {
        note: `schedule ${snapshot.schedule}: tenant ${tenant} is in planned maintenance (${maintenance.state}) since ${since}; failed polls are not counted as an outage`,
      },
    ];
  });
}

/** Reads the shared snapshots (every replica says the same) and notes the schedules in maintenance. */
export function maintenanceCheck(read: () => Promise<readonly Snapshot[]>, options: MaintenanceCheckOptions): ReadinessCheck {
  const now = options.now ?? Date.now;
  const maxAgeMs = options.maxAgeMs ?? 5000;
  let last: { at: number; verdicts: ReadinessVerdict[] } | null = null;
  return async () => {
    if (last && now() - last.at < maxAgeMs) return last.verdicts;
    try {
      const verdicts = maintenanceNotes(
        await withTimeout(read(), options.timeoutMs ?? 1000, 'reading snapshots for readiness'),
        options.tenant,
      );
      last = { at: now(), verdicts };
      return verdicts;
    } catch {
      return [];
    }
  };
}

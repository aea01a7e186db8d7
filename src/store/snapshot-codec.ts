import { z } from 'zod';
import { emptySnapshot, type Snapshot } from '../core/model.ts';

/**
 * Snapshots are our own JSON, but Redis is still a boundary (an older version, a hand edit):
 * check the outer shape and fall back to a clearly reported empty snapshot instead of crashing.
 */
const snapshotShape = z.object({
  schedule: z.string(),
  version: z.number().int().nonnegative(),
  tasks: z.record(z.string(), z.object({ task: z.object({ id: z.number(), state: z.string() }).loose() }).loose()),
  alerts: z.record(z.string(), z.object({ kind: z.string(), subject: z.string(), eventId: z.string() }).loose()),
  consecutiveFailures: z.number().int().nonnegative(),
  lastPollAt: z.number().nullable(),
  lastSuccessAt: z.number().nullable(),
  lastError: z.object({ kind: z.string(), message: z.string() }).nullable(),
});

export class CorruptSnapshotError extends Error {
  constructor(readonly schedule: string, detail: string) {
    super(`snapshot of schedule "${schedule}" in Redis is unreadable (${detail}); starting from an empty snapshot`);
  }
}

export function encodeSnapshot(snapshot: Snapshot): string {
  return JSON.stringify(snapshot);
}

export function decodeSnapshot(schedule: string, raw: string | null, version: number): Snapshot {
  if (raw === null) return emptySnapshot(schedule);
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch (error) {
    throw new CorruptSnapshotError(schedule, (error as Error).message);
  }
  const parsed = snapshotShape.safeParse(data);
  if (!parsed.success) throw new CorruptSnapshotError(schedule, parsed.error.issues[0]?.message ?? 'bad shape');
  // The inner records were written by this program's evaluate(); the outer check guards the rest.
  // Fields added after a snapshot was written default to their empty value.
  return { ...(data as Snapshot), maintenance: (data as Partial<Snapshot>).maintenance ?? null, schedule, version };
}

/**
 * The snapshot format before incremental storage: the whole snapshot as one JSON string in the `data`
 * field. Read once, on the first load after an upgrade; the next commit rewrites it in the current layout.
 * Redis is a boundary (an older version, a hand edit): the outer shape is checked, and an unreadable
 * snapshot is reported and replaced by an empty one instead of crashing.
 */
import { z } from 'zod';
import { emptySnapshot, type Snapshot } from '../core/model.ts';

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
  constructor(
    readonly schedule: string,
    detail: string,
    consequence = 'starting from an empty snapshot',
  ) {
    super(`snapshot of schedule "${schedule}" in Redis is unreadable (${detail}); ${consequence}`);
  }
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

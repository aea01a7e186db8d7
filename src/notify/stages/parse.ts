/** Stage 0: the queued job's data, validated into a NotificationBatch (a malformed job is rejected, never retried). */
import { z } from 'zod';
import type { NotificationBatch } from '../../core/model.ts';

const batchSchema = z
  .object({
    id: z.string().min(1),
    schedule: z.string().min(1),
    createdAt: z.number(),
    events: z.array(z.object({ id: z.string(), kind: z.string(), subject: z.string() }).loose()),
  })
  .loose();

export type ParsedJob = { ok: true; batch: NotificationBatch } | { ok: false; reason: string };

/** Job data comes from Redis, so it is checked like any input; the fields every later stage relies on must be there. */
export function parseJob(data: unknown): ParsedJob {
  const parsed = batchSchema.safeParse(data);
  if (!parsed.success) return { ok: false, reason: `malformed notification job: ${parsed.error.message}` };
  // Events were written by this program's core (src/core/model.ts); the checked fields are what the stages read.
  return { ok: true, batch: parsed.data as unknown as NotificationBatch };
}

/**
 * Every key batchwatch writes starts with the configured prefix. Keys of one schedule share the
 * hash tag `{sched:NAME}` so the compare-and-set script touches a single Redis Cluster slot.
 */
export function scheduleKeys(prefix: string, schedule: string) {
  const base = `${prefix}:{sched:${schedule}}`;
  return {
    snapshot: `${base}:snapshot`,
    outbox: `${base}:outbox`,
    lock: `${base}:lock`,
  };
}

/** BullMQ queue names carry a hash tag so each queue lives in one Cluster slot. */
export const POLL_QUEUE = '{polls}';
export const NOTIFY_QUEUE = '{notify}';

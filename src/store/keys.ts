/**
 * Every key batchwatch writes starts with the configured prefix. Keys of one schedule share the
 * hash tag `{sched:NAME}` so every script of the snapshot store touches a single Redis Cluster slot.
 */
export function scheduleKeys(prefix: string, schedule: string) {
  const base = `${prefix}:{sched:${schedule}}`;
  return {
    /** Hash: version, commit id, format and the schedule-level fields (`meta`); `data` in the format before 0.2. */
    snapshot: `${base}:snapshot`,
    /** Hash: task id -> task record. */
    tasks: `${base}:tasks`,
    /** Hash: alert key -> active alert. */
    alerts: `${base}:alerts`,
    /** Hash: version -> which tasks and alerts that commit changed, for replicas catching up. */
    changes: `${base}:changes`,
    outbox: `${base}:outbox`,
    lock: `${base}:lock`,
    /** Hash: alert key -> alert the notifier muted and has not told since (src/core/release.ts). */
    muted: `${base}:muted`,
    /** Hash: episode id (the event that started the alert) -> acknowledgement. */
    acks: `${base}:acks`,
  };
}

/**
 * String with an expiry: the acknowledgement of an episode that ended, kept for the notifier (reminders and
 * releases of the episode may still wait in its queue). Same hash tag as the schedule's other keys.
 */
export function endedAckKey(prefix: string, schedule: string, episode: string): string {
  return `${scheduleKeys(prefix, schedule).acks}:ended:${episode}`;
}

/** Hash: silence id -> silence (JSON). One key for every schedule, replica and CLI call. */
export function silencesKey(prefix: string): string {
  return `${prefix}:silences`;
}

/** BullMQ queue names carry a hash tag so each queue lives in one Cluster slot. */
export const POLL_QUEUE = '{polls}';
export const NOTIFY_QUEUE = '{notify}';

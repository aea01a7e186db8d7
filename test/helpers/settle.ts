// Waits for an observable point before a test asserts that something did not happen: N more polls done and mailed.
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { NOTIFY_QUEUE } from '../../src/store/keys.ts';
import { SnapshotStore } from '../../src/store/snapshot-store.ts';
import { waitUntil } from './wait.ts';

/**
 * Waits until `polls` more polls of `schedule` committed, their batches left the outbox and the notifier
 * (under `prefix`) has no job left to run: whatever those polls were going to mail has been mailed.
 */
export async function pollsSettled(client: Redis, prefix: string, schedule: string, polls: number, timeoutMs = 15_000): Promise<void> {
  const store = new SnapshotStore(client, prefix);
  const notifications = new Queue(NOTIFY_QUEUE, { connection: client, prefix });
  try {
    const from = (await store.load(schedule)).snapshot.version;
    await waitUntil(
      async () => {
        const state = await store.load(schedule);
        if (state.snapshot.version < from + polls || state.pendingBatches.length > 0) return false;
        return (await notifications.getJobCountByTypes('waiting', 'active', 'delayed', 'prioritized')) === 0;
      },
      timeoutMs,
      `${polls} more polls of ${schedule}, handed over and mailed`,
    );
  } finally {
    await notifications.close();
  }
}

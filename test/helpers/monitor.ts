import type { SuperOfficeConfig, ScheduleConfig } from '../../src/config/types.ts';
import type { NotificationBatch, Rules } from '../../src/core/model.ts';
import { createLogger } from '../../src/log.ts';
import { noopInstruments } from '../../src/metrics/instruments.ts';
import type { PollDeps } from '../../src/monitor/poll.ts';
import type { SnapshotStore } from '../../src/store/snapshot-store.ts';
import { createSuperOfficeClient } from '../../src/superoffice/client.ts';
import { rules } from './tasks.ts';

export const testRules: Rules = rules();

export function superOfficeConfig(url: string): SuperOfficeConfig {
  return { url, username: 'demo', password: 'demo', timeout: 5000, associatesPerRequest: 100, maxConcurrentRequests: 2, timeZone: 'UTC' };
}

export const salesSchedule: ScheduleConfig = { name: 'sales', associates: [101, 102], timing: { every: 60_000 } };

/** A sink that records every batch handed over, like the notifier would receive them. */
export class RecordingSink {
  readonly batches: NotificationBatch[] = [];
  async enqueue(batch: NotificationBatch): Promise<void> {
    this.batches.push(batch);
  }
  eventIds(kind?: string): string[] {
    return this.batches
      .flatMap((b) => b.events)
      .filter((e) => !kind || e.kind === kind)
      .map((e) => e.id);
  }
}

export function pollDeps(simulatorUrl: string, store: SnapshotStore, sink: RecordingSink, rules: Rules = testRules): PollDeps {
  return {
    source: createSuperOfficeClient(superOfficeConfig(simulatorUrl)),
    store,
    sink,
    rules,
    instruments: noopInstruments,
    log: createLogger('silent'),
  };
}

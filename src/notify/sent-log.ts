import type { AlertEvent } from '../core/model.ts';
import type { RedisClient } from '../redis/connections.ts';
import { NOTIFY_QUEUE } from '../store/keys.ts';

/** Kept well beyond retryFor, so a job retried or re-added at any point of its life finds it. */
export const SENT_LOG_EXTRA_TTL_MS = 7 * 24 * 3_600_000;

export function sentLogKey(prefix: string, eventId: string): string {
  return `${prefix}:nflog:${NOTIFY_QUEUE}:${eventId}`;
}

export interface SentRecord {
  sentAt: number;
  response: string;
  messageId: string;
}

/**
 * The notification log (Alertmanager's nflog): one key per event the SMTP server accepted a mail for.
 * Kept per event, not per mail, so an event that comes round again in another batch (a retried job,
 * a task that vanished and came back) is still told only once.
 */
export class SentLog {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly ttlMs: number,
  ) {}

  /** The events not yet notified, in their order. One round trip. */
  async unsent(events: readonly AlertEvent[]): Promise<AlertEvent[]> {
    if (events.length === 0) return [];
    const found = await this.redis.mget(...events.map((e) => sentLogKey(this.prefix, e.id)));
    return events.filter((_, i) => found[i] === null);
  }

  async record(events: readonly AlertEvent[], record: SentRecord): Promise<void> {
    if (events.length === 0) return;
    const value = JSON.stringify(record);
    const multi = this.redis.multi();
    for (const event of events) multi.set(sentLogKey(this.prefix, event.id), value, 'PX', Math.ceil(this.ttlMs));
    const results = await multi.exec();
    const failure = results?.find(([error]) => error)?.[0];
    if (!results || failure) throw failure ?? new Error('Redis transaction aborted while recording sent notifications');
  }
}

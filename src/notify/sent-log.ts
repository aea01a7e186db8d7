import type { Redis } from 'ioredis';
import { NOTIFY_QUEUE } from '../store/keys.ts';

/** Kept well beyond retryFor, so a job retried or re-added at any point of its life finds it. */
export const SENT_LOG_EXTRA_TTL_MS = 7 * 24 * 3_600_000;

export function sentLogKey(prefix: string, batchId: string): string {
  return `${prefix}:nflog:${NOTIFY_QUEUE}:${batchId}`;
}

export interface SentRecord {
  sentAt: number;
  response: string;
  messageId: string;
}

/**
 * The notification log (Alertmanager's nflog): one key per batch the SMTP server accepted.
 * The worker reads it before sending, so a duplicated or retried job never mails twice.
 */
export class SentLog {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlMs: number,
  ) {}

  async wasSent(batchId: string): Promise<boolean> {
    return (await this.redis.exists(sentLogKey(this.prefix, batchId))) === 1;
  }

  async record(batchId: string, record: SentRecord): Promise<void> {
    await this.redis.set(sentLogKey(this.prefix, batchId), JSON.stringify(record), 'PX', Math.ceil(this.ttlMs));
  }
}

/** The notification history: the latest outcomes (sent, silenced, retrying, ...) in a capped Redis list, for the status page and the API. */
import type { RedisClient } from '../redis/connections.ts';
import { z } from 'zod';
import { scrubSecrets } from '../redact/secrets.ts';
import { oneLine } from '../core/text.ts';
import { truncate } from './format.ts';
import { OUTCOME_STATUSES, type OutcomeStatus } from './pipeline.ts';

/** How many entries are kept (newest first). */
export const HISTORY_LENGTH = 200;
const TEXT_MAX = 500;
const MAX_EVENT_IDS = 100;

/** Its own hash tag: one key, one Redis Cluster slot, apart from the queue's. */
export function historyKey(prefix: string): string {
  return `${prefix}:{notify-history}:entries`;
}

export interface HistoryEntry {
  /** Unix ms. */
  at: number;
  batchId: string;
  schedule: string;
  status: OutcomeStatus;
  /** The mail's subject (text from SuperOffice: escape it where it is shown). */
  subject?: string;
  eventIds: string[];
  /** One line: the server's answer, the error, the silence, the configuration problem. Scrubbed of secrets. */
  detail?: string;
}

const entrySchema = z.object({
  at: z.number(),
  batchId: z.string(),
  schedule: z.string(),
  status: z.enum(OUTCOME_STATUSES),
  subject: z.string().optional(),
  eventIds: z.array(z.string()),
  detail: z.string().optional(),
});

const clean = (text: string): string => truncate(oneLine(scrubSecrets(text)), TEXT_MAX);

/** Append-only from the notifier; read by anyone holding a Redis connection (every replica sees the same list). */
export class NotificationHistory {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly length: number = HISTORY_LENGTH,
  ) {}

  /** Adds an entry and trims the list to its length, in one transaction. Text is scrubbed and bounded. */
  async append(entry: HistoryEntry): Promise<void> {
    const stored: HistoryEntry = {
      at: entry.at,
      batchId: clean(entry.batchId),
      schedule: clean(entry.schedule),
      status: entry.status,
      eventIds: entry.eventIds.slice(0, MAX_EVENT_IDS).map(clean),
      ...(entry.subject !== undefined ? { subject: clean(entry.subject) } : {}),
      ...(entry.detail !== undefined ? { detail: clean(entry.detail) } : {}),
    };
    const key = historyKey(this.prefix);
    const results = await this.redis
      .multi()
      .lpush(key, JSON.stringify(stored))
      .ltrim(key, 0, this.length - 1)
      .exec();
    const failure = results?.find(([error]) => error)?.[0];
    if (!results || failure) throw failure ?? new Error('Redis transaction aborted while writing the notification history');
  }

  /** The newest `limit` entries, newest first; entries that do not read back are left out. */
  async recent(limit = this.length): Promise<HistoryEntry[]> {
    const count = Math.max(0, Math.min(Math.floor(limit), this.length));
    if (count === 0) return [];
    const raw = await this.redis.lrange(historyKey(this.prefix), 0, count - 1);
    return raw.flatMap((text) => {
      try {
        const parsed = entrySchema.safeParse(JSON.parse(text));
        return parsed.success ? [parsed.data as HistoryEntry] : [];
      } catch {
        return [];
      }
    });
  }
}

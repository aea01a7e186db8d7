/** The notification log in Redis: which events were mailed (or settled otherwise) and when an episode was last told. */
import { episodeOf } from '../core/event-id.ts';
import type { AlertEvent } from '../core/model.ts';
import type { EpisodeLog } from '../core/mute-decision.ts';
import type { RedisClient } from '../redis/connections.ts';
import { NOTIFY_QUEUE } from '../store/keys.ts';

/** Kept well beyond retryFor, so a job retried or re-added at any point of its life finds it. */
export const SENT_LOG_EXTRA_TTL_MS = 7 * 24 * 3_600_000;

export function sentLogKey(prefix: string, eventId: string): string {
  return `${prefix}:nflog:${NOTIFY_QUEUE}:${eventId}`;
}

/** When an event of the episode was last mailed. Same hash tag as the log, so one transaction writes both. */
export function toldKey(prefix: string, episodeId: string): string {
  return `${prefix}:told:${NOTIFY_QUEUE}:${episodeId}`;
}

/** The SMTP server accepted a mail with the event. (Records without `status` are this kind: written before silences existed.) */
export interface SentRecord {
  sentAt: number;
  response: string;
  messageId: string;
}

/** Settled without a mail by the mute stage: a silence or maintenance window matched, or the episode is acknowledged. */
export interface SettledRecord {
  status: 'silenced' | 'acknowledged';
  at: number;
  /** Silence ids, maintenance window names, or the acknowledgement's author. */
  by: string[];
  reason: string;
}

export type LogRecord = SentRecord | SettledRecord;

function readRecord(raw: string | null): LogRecord | null {
  if (raw === null) return null;
  try {
    const value = JSON.parse(raw) as unknown;
    return value && typeof value === 'object' ? (value as LogRecord) : null;
  } catch {
    return null;
  }
}

function isSent(record: LogRecord | null): record is SentRecord {
  return record !== null && !('status' in record) && typeof record.sentAt === 'number';
}

/**
 * The notification log (Alertmanager's nflog): one key per event that is settled — mailed (the SMTP server
 * accepted it), or silenced or acknowledged by the mute stage. Kept per event, not per mail, so an event that
 * comes round again in another batch (a retried job, a task that vanished and came back) is settled only once.
 * Beside it, per episode, when one of its events was last mailed ("told").
 */
export class SentLog {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly ttlMs: number,
  ) {}

  /** The events not yet settled, in their order. One round trip. */
  async unsent(events: readonly AlertEvent[]): Promise<AlertEvent[]> {
    if (events.length === 0) return [];
    const found = await this.redis.mget(...events.map((e) => sentLogKey(this.prefix, e.id)));
    return events.filter((_, i) => found[i] === null);
  }

  /** Records mailed events, and marks their episodes as told at `record.sentAt`, in one transaction. */
  async record(events: readonly AlertEvent[], record: SentRecord): Promise<void> {
    if (events.length === 0) return;
    const value = JSON.stringify(record);
    const ttl = Math.ceil(this.ttlMs);
    const multi = this.redis.multi();
    for (const event of events) multi.set(sentLogKey(this.prefix, event.id), value, 'PX', ttl);
    for (const episode of new Set(events.map((event) => episodeOf(event.id))))
      multi.set(toldKey(this.prefix, episode), String(record.sentAt), 'PX', ttl);
    await execOrThrow(multi, 'recording sent notifications');
  }

  /** Records events the mute stage settled without a mail (they are never mailed or retried), in one transaction. */
  async settle(entries: readonly { event: AlertEvent; record: SettledRecord }[]): Promise<void> {
    if (entries.length === 0) return;
    const multi = this.redis.multi();
    for (const { event, record } of entries)
      multi.set(sentLogKey(this.prefix, event.id), JSON.stringify(record), 'PX', Math.ceil(this.ttlMs));
    await execOrThrow(multi, 'recording silenced notifications');
  }

  /**
   * What the log knows about each episode (one round trip): when it was last mailed, and whether its first event
   * was muted. An episode from before told markers existed counts as told when its first event was mailed.
   */
  async episodes(episodeIds: readonly string[]): Promise<Record<string, EpisodeLog>> {
    const unique = [...new Set(episodeIds)];
    if (unique.length === 0) return {};
    const keys = unique.flatMap((episode) => [toldKey(this.prefix, episode), sentLogKey(this.prefix, episode)]);
    const found = await this.redis.mget(...keys);
    const out: Record<string, EpisodeLog> = {};
    unique.forEach((episode, i) => {
      const told = found[2 * i] ?? null;
      const first = readRecord(found[2 * i + 1] ?? null);
      const toldAt = told !== null && Number.isFinite(Number(told)) ? Number(told) : isSent(first) ? first.sentAt : null;
      out[episode] = { toldAt, firstMuted: first !== null && 'status' in first && first.status === 'silenced' };
    });
    return out;
  }
}

async function execOrThrow(multi: ReturnType<RedisClient['multi']>, what: string): Promise<void> {
  const results = await multi.exec();
  const failure = results?.find(([error]) => error)?.[0];
  if (!results || failure) throw failure ?? new Error(`Redis transaction aborted while ${what}`);
}

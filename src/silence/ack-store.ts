/** Acknowledgements in Redis, per schedule, keyed by the alert episode (the event that started it), never by the task. */
import type { Acknowledgement } from '../core/model.ts';
import { SENT_LOG_EXTRA_TTL_MS } from '../notify/sent-log.ts';
import type { RedisClient } from '../redis/connections.ts';
import { endedAckKey, scheduleKeys } from '../store/keys.ts';
import { decodeAck, encode, type StoredAck } from './codec.ts';

/**
 * How long the acknowledgement of an ended episode is kept (mail.retryFor plus the notification log's margin):
 * as long as a reminder or release of the episode queued before it ended may still be delivered.
 */
export function endedAckKeepMs(retryForMs: number): number {
  return retryForMs + SENT_LOG_EXTRA_TTL_MS;
}

/** What endedAckKeepMs gives for the default mail.retryFor (24h): for polls that are not told retryFor. */
export const DEFAULT_ENDED_ACK_KEEP_MS = endedAckKeepMs(24 * 3_600_000);

export class AckStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  /** Every acknowledgement of the schedule, by episode id; unreadable entries are left out. */
  async all(schedule: string): Promise<Record<string, StoredAck>> {
    return decodeAckHash(await this.redis.hgetall(scheduleKeys(this.prefix, schedule).acks)).entries;
  }

  /** The acknowledgements of these episodes (one HMGET: the work is that of the episodes asked for, not of the hash). */
  async some(schedule: string, episodes: readonly string[]): Promise<Record<string, StoredAck>> {
    if (episodes.length === 0) return {};
    const values = await this.redis.hmget(scheduleKeys(this.prefix, schedule).acks, ...episodes);
    const out: Record<string, StoredAck> = {};
    episodes.forEach((episode, i) => {
      const ack = values[i] ? decodeAck(values[i]) : null;
      if (ack) out[episode] = ack;
    });
    return out;
  }

  /**
   * The acknowledgements of these episodes, also of episodes that ended not long ago (kept by the poll for the
   * notifier: a reminder queued before its episode ended stays acknowledged). One round trip, one Cluster slot.
   */
  async forEpisodes(schedule: string, episodes: readonly string[]): Promise<Record<string, Acknowledgement>> {
    if (episodes.length === 0) return {};
    const unique = [...new Set(episodes)];
    const results = await this.redis
      .multi()
      .hmget(scheduleKeys(this.prefix, schedule).acks, ...unique)
      .mget(...unique.map((episode) => endedAckKey(this.prefix, schedule, episode)))
      .exec();
    const failure = results?.find(([error]) => error)?.[0];
    if (!results || failure) throw failure ?? new Error('Redis transaction aborted while reading acknowledgements');
    const [active, ended] = results.map(([, value]) => value as (string | null)[]);
    const acks: Record<string, Acknowledgement> = {};
    unique.forEach((episode, i) => {
      const raw = active?.[i] ?? ended?.[i] ?? null;
      const ack = raw ? decodeAck(raw) : null;
      if (ack) acks[episode] = { author: ack.author, comment: ack.comment, at: ack.at };
    });
    return acks;
  }

  /** Stores (or replaces) the acknowledgement of an episode. The poll moves it aside when the episode ends (endedAckKey). */
  async put(schedule: string, episode: string, ack: StoredAck): Promise<void> {
    await this.redis.hset(scheduleKeys(this.prefix, schedule).acks, episode, encode(ack));
  }
}

/** A schedule's acks hash as read: the readable entries, and every key (unreadable ones are removed by the poll). */
export function decodeAckHash(raw: Record<string, string>): { entries: Record<string, StoredAck>; keys: string[] } {
  const entries: Record<string, StoredAck> = {};
  for (const [episode, value] of Object.entries(raw)) {
    const ack = decodeAck(value);
    if (ack) entries[episode] = ack;
  }
  return { entries, keys: Object.keys(raw) };
}

/** Acknowledgements in Redis, per schedule, keyed by the alert episode (the event that started it), never by the task. */
import type { Acknowledgement } from '../core/model.ts';
import type { RedisClient } from '../redis/connections.ts';
import { scheduleKeys } from '../store/keys.ts';
import { decodeAck, encode, type StoredAck } from './codec.ts';

export class AckStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  /** Every acknowledgement of the schedule, by episode id; unreadable entries are left out. */
  async all(schedule: string): Promise<Record<string, StoredAck>> {
    return decodeAckHash(await this.redis.hgetall(scheduleKeys(this.prefix, schedule).acks)).entries;
  }

  /** The acknowledgements of these episodes (one round trip). */
  async forEpisodes(schedule: string, episodes: readonly string[]): Promise<Record<string, Acknowledgement>> {
    if (episodes.length === 0) return {};
    const unique = [...new Set(episodes)];
    const raw = await this.redis.hmget(scheduleKeys(this.prefix, schedule).acks, ...unique);
    const acks: Record<string, Acknowledgement> = {};
    unique.forEach((episode, i) => {
      const ack = raw[i] ? decodeAck(raw[i]) : null;
      if (ack) acks[episode] = { author: ack.author, comment: ack.comment, at: ack.at };
    });
    return acks;
  }

  /** Stores (or replaces) the acknowledgement of an episode. The poll removes it when the episode ends. */
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

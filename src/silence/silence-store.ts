/** Silences in Redis: one hash for every schedule, replica and CLI call; expired ones are kept a week for the record. */
import { randomUUID } from 'node:crypto';
import type { RedisClient } from '../redis/connections.ts';
import type { AlertMatchers } from '../core/matchers.ts';
import { expireSilence, silenceState, type Silence } from '../core/silences.ts';
import { silencesKey } from '../store/keys.ts';
import { decodeSilence, encode } from './codec.ts';

/** How long an expired silence stays listed (and counted as expired) before it is removed. */
export const EXPIRED_SILENCE_RETENTION_MS = 7 * 24 * 3_600_000;

export interface NewSilence {
  matchers: AlertMatchers;
  startsAt: number;
  endsAt: number;
  comment: string;
  author: string;
}

export interface SilenceList {
  silences: Silence[];
  /** Entries that could not be read (left in place; shown so that nobody wonders why a silence does not apply). */
  unreadable: string[];
}

export class SilenceNotFoundError extends Error {
  override readonly name = 'SilenceNotFoundError';
  constructor(readonly id: string) {
    super(`no silence with id ${id}`);
  }
}

/** Told once per store about each stored entry that cannot be read (it is left out of every answer). */
export type UnreadableSilenceLog = (msg: string, fields: Record<string, unknown>) => void;

export class SilenceStore {
  private readonly reported = new Set<string>();

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly now: () => number = Date.now,
    private readonly log?: UnreadableSilenceLog,
  ) {}

  /** Every stored silence (any state), oldest first. One round trip. */
  async list(): Promise<SilenceList> {
    const raw = await this.redis.hgetall(silencesKey(this.prefix));
    const silences: Silence[] = [];
    const unreadable: string[] = [];
    for (const [id, value] of Object.entries(raw)) {
      const silence = decodeSilence(value);
      if (silence && silence.id === id) silences.push(silence);
      else unreadable.push(id);
    }
    silences.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
    for (const id of unreadable) {
      if (this.reported.has(id)) continue;
      this.reported.add(id);
      this.log?.('a stored silence cannot be read (damaged, or a time beyond what a date can hold); it is left out and mutes nothing', {
        silence: id.slice(0, 100),
        hint: `remove it with: redis-cli HDEL ${silencesKey(this.prefix)} <id>`,
      });
    }
    return { silences, unreadable };
  }

  async all(): Promise<Silence[]> {
    return (await this.list()).silences;
  }

  async get(id: string): Promise<Silence | null> {
    const raw = await this.redis.hget(silencesKey(this.prefix), id);
    return raw === null ? null : decodeSilence(raw);
  }

  /** Stores a new silence (validated by the caller) and returns it with its id. */
  async add(fields: NewSilence): Promise<Silence> {
    const silence: Silence = { id: randomUUID(), ...fields, createdAt: this.now() };
    await this.redis.hset(silencesKey(this.prefix), silence.id, encode(silence));
    await this.prune();
    return silence;
  }

  /** Ends a silence now; one that already ended is returned as it is. */
  async expire(id: string, by: string): Promise<Silence> {
    const silence = await this.get(id);
    if (!silence) throw new SilenceNotFoundError(id);
    const ended = expireSilence(silence, this.now(), by);
    if (ended !== silence) await this.redis.hset(silencesKey(this.prefix), id, encode(ended));
    return ended;
  }

  /** Removes silences that ended more than EXPIRED_SILENCE_RETENTION_MS ago. Returns how many. */
  async prune(): Promise<number> {
    const now = this.now();
    const { silences } = await this.list();
    const old = silences
      .filter((s) => silenceState(s, now) === 'expired' && now - s.endsAt > EXPIRED_SILENCE_RETENTION_MS)
      .map((s) => s.id);
    if (old.length > 0) await this.redis.hdel(silencesKey(this.prefix), ...old);
    return old.length;
  }
}

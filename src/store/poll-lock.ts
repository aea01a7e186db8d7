/** The per-schedule poll lock in Redis: one poll of a schedule at a time across replicas, renewed while it runs. */
import type { RedisClient } from '../redis/connections.ts';
import { scheduleKeys } from './keys.ts';

const RELEASE_LOCK_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

const EXTEND_LOCK_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;

/**
 * A lock per schedule, held by a random token with a TTL. The compare-and-set of the snapshot is what
 * guarantees exactly-once; the lock only keeps an overrunning poll from running twice at once.
 */
export class PollLock {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  private key(schedule: string): string {
    return scheduleKeys(this.prefix, schedule).lock;
  }

  /** Takes the lock for `ttlMs` unless someone else holds it. */
  async tryLock(schedule: string, token: string, ttlMs: number): Promise<boolean> {
    const key = this.key(schedule);
    if ((await this.redis.set(key, token, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX')) === 'OK') return true;
    // A SET resent after a reconnect finds the lock its first delivery took: that is ours too.
    return (await this.redis.get(key)) === token;
  }

  /** Keeps a held lock alive; false when it was lost (expired and maybe taken by another poll). */
  async extendLock(schedule: string, token: string, ttlMs: number): Promise<boolean> {
    const reply = await this.redis.eval(EXTEND_LOCK_SCRIPT, 1, this.key(schedule), token, String(Math.ceil(ttlMs)));
    return Number(reply) === 1;
  }

  /** Releases the lock if `token` still holds it. */
  async unlock(schedule: string, token: string): Promise<void> {
    await this.redis.eval(RELEASE_LOCK_SCRIPT, 1, this.key(schedule), token);
  }
}

/** The alerts the notifier muted and has not told since, per schedule (written by the mute stage, released by the poll). */
import type { MutedAlert } from '../core/release.ts';
import type { RedisClient } from '../redis/connections.ts';
import { scheduleKeys } from '../store/keys.ts';
import { alertKey } from '../core/event-id.ts';
import { decodeMuted, encode } from './codec.ts';

/**
 * Remembers muted alerts: an entry of the same episode is kept as it is (its `at` names the release, so a
 * retried job muting the same alert again must not change it); any other entry under the alert key (an
 * episode that ended) is replaced. KEYS[1] the muted hash; ARGV alert key, episode, entry, repeated.
 */
const REMEMBER_SCRIPT = `
for i = 1, #ARGV, 3 do
  local current = redis.call('HGET', KEYS[1], ARGV[i])
  local keep = false
  if current then
    local ok, entry = pcall(cjson.decode, current)
    keep = ok and type(entry) == 'table' and entry.episode == ARGV[i + 1]
  end
  if not keep then redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 2]) end
end
return 1
`;

export class MutedStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  async remember(schedule: string, entries: readonly MutedAlert[]): Promise<void> {
    if (entries.length === 0) return;
    const args = entries.flatMap((entry) => [alertKey(entry.kind, entry.subject), entry.episode, encode(entry)]);
    await this.redis.eval(REMEMBER_SCRIPT, 1, scheduleKeys(this.prefix, schedule).muted, ...args);
  }

  /** The muted entries of these alert keys (one HMGET: the work is that of the keys asked for, not of the hash). */
  async some(schedule: string, keys: readonly string[]): Promise<Record<string, MutedAlert>> {
    if (keys.length === 0) return {};
    const values = await this.redis.hmget(scheduleKeys(this.prefix, schedule).muted, ...keys);
    const out: Record<string, MutedAlert> = {};
    keys.forEach((key, i) => {
      const entry = values[i] ? decodeMuted(values[i]) : null;
      if (entry) out[key] = entry;
    });
    return out;
  }

  /** The schedule's muted alerts by alert key, with the raw values (the poll removes an entry only while it is unchanged). */
  async all(schedule: string): Promise<{ entries: Record<string, MutedAlert>; raw: Record<string, string> }> {
    return decodeMutedHash(await this.redis.hgetall(scheduleKeys(this.prefix, schedule).muted));
  }
}

/** Unreadable entries are kept in `raw` (so the poll removes them) but not in `entries`. */
export function decodeMutedHash(raw: Record<string, string>): { entries: Record<string, MutedAlert>; raw: Record<string, string> } {
  const entries: Record<string, MutedAlert> = {};
  for (const [key, value] of Object.entries(raw)) {
    const entry = decodeMuted(value);
    if (entry) entries[key] = entry;
  }
  return { entries, raw };
}

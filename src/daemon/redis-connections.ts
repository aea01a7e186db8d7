import { Redis } from 'ioredis';
import type { Logger } from '../log.ts';

/**
 * Logs a lost connection once (warn) and its recovery once (info), not every reconnect attempt,
 * so an outage reads as two lines in the log.
 */
function reportOutages(redis: Redis, role: string, log: Logger): Redis {
  let down = false;
  redis.on('error', (error) => {
    if (!down) log.warn({ role, err: error.message }, 'Redis unreachable; retrying in the background');
    else log.debug({ role, err: error.message }, 'Redis still unreachable');
    down = true;
  });
  redis.on('ready', () => {
    if (down) log.info({ role }, 'Redis connection restored');
    down = false;
  });
  return redis;
}

/** Connection for the poll path: commands wait briefly for a reconnect, then fail (the job fails, nothing hangs). */
export function createCommandRedis(url: string, log: Logger): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: 2, connectTimeout: 5000, retryStrategy: (n) => Math.min(n * 200, 2000) });
  return reportOutages(redis, 'commands', log);
}

/** Fail-fast connection for scrapes and readiness: no offline queue, so a down Redis answers at once. */
export function createProbeRedis(url: string, log: Logger): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    connectTimeout: 1000,
    retryStrategy: (n) => Math.min(n * 200, 2000),
  });
  return reportOutages(redis, 'probe', log);
}

/**
 * Connection for the notifier's queue, worker and notification log (BullMQ needs maxRetriesPerRequest: null:
 * commands wait for a reconnect). The notifier reports its own connection errors.
 */
export function createNotifierRedis(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null });
}

import { Redis } from 'ioredis';
import type { Logger } from '../log.ts';

/** Connection for the poll path: commands wait briefly for a reconnect, then fail (the job fails, nothing hangs). */
export function createCommandRedis(url: string, log: Logger): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: 2, connectTimeout: 5000, retryStrategy: (n) => Math.min(n * 200, 2000) });
  redis.on('error', (error) => log.debug({ err: error.message }, 'redis (commands): connection error'));
  return redis;
}

/** Fail-fast connection for scrapes and readiness: no offline queue, so a down Redis answers at once. */
export function createProbeRedis(url: string, log: Logger): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    connectTimeout: 1000,
    retryStrategy: (n) => Math.min(n * 200, 2000),
  });
  redis.on('error', (error) => log.debug({ err: error.message }, 'redis (probe): connection error'));
  return redis;
}

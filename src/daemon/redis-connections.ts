/** The daemon's own two Redis connections (poll path and probe), from the one factory in src/redis. */
import type { Redis } from 'ioredis';
import type { RedisTarget } from '../config/types.ts';
import type { NotifierConnectionRole } from '../notify/notifier.ts';
import { createRedisClient, type ConnectionLog, type RedisClient } from '../redis/connections.ts';

/** Connection for the poll path: commands wait briefly for a reconnect, then fail (the job fails, nothing hangs). */
export function createCommandRedis(url: string, log: ConnectionLog): Redis;
export function createCommandRedis(target: RedisTarget, log: ConnectionLog): RedisClient;
export function createCommandRedis(target: RedisTarget | string, log: ConnectionLog): RedisClient {
  return createRedisClient(typeof target === 'string' ? { url: target } : target, 'commands', log);
}

/** Fail-fast connection for scrapes and readiness: no offline queue, so a down Redis answers at once. */
export function createProbeRedis(url: string, log: ConnectionLog): Redis;
export function createProbeRedis(target: RedisTarget, log: ConnectionLog): RedisClient;
export function createProbeRedis(target: RedisTarget | string, log: ConnectionLog): RedisClient {
  return createRedisClient(typeof target === 'string' ? { url: target } : target, 'probe', log);
}

/**
 * Connections for the notifier: BullMQ's queue and worker (commands wait for Redis however long it takes, as
 * BullMQ requires) and the notification log. The notifier reports its own connection errors.
 */
export function createNotifierRedis(target: RedisTarget, role: NotifierConnectionRole): RedisClient {
  return createRedisClient(target, role === 'notification-log' ? 'notification-log' : 'queue');
}

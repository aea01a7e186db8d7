import { startPrivateRedis, type PrivateRedis } from '../../src/runtime/private-redis.ts';

/**
 * A private redis-server on a free loopback port for one test file.
 * Tests may stop() and start() it to simulate an outage; close() in `after`.
 */
export async function startRedis(): Promise<PrivateRedis> {
  return startPrivateRedis();
}

export type { PrivateRedis };

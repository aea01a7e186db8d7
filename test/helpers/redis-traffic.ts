import type { Redis } from 'ioredis';

async function counters(observer: Redis): Promise<{ input: number; output: number }> {
  const info = await observer.info('stats');
  return {
    input: Number(/total_net_input_bytes:(\d+)/.exec(info)?.[1]),
    output: Number(/total_net_output_bytes:(\d+)/.exec(info)?.[1]),
  };
}

/**
 * Bytes every client sent to Redis (`input`) and Redis sent back (`output`) while `action` ran, as the
 * server counts them, minus the observer's own INFO calls (measured just before). Only meaningful
 * while nothing else talks to that Redis.
 */
export async function redisTraffic(observer: Redis, action: () => Promise<unknown>): Promise<{ input: number; output: number }> {
  const a = await counters(observer);
  const b = await counters(observer);
  await action();
  const c = await counters(observer);
  return { input: c.input - b.input - (b.input - a.input), output: c.output - b.output - (b.output - a.output) };
}

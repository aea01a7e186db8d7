import type { Redis } from 'ioredis';
import { TimeoutError, withTimeout } from './timeout.ts';

export interface ReadinessResult {
  ready: boolean;
  reasons: string[];
}

export const DEFAULT_READINESS_TIMEOUT_MS = 1000;

function describeRedisError(error: unknown): string {
  if (error instanceof TimeoutError) return error.message;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  if (!(error instanceof Error)) return 'error';
  // ioredis messages name no credentials, but never echo anything that looks like a URL's userinfo.
  return error.message.replace(/\/\/[^@\s/]*@/g, '//***@').slice(0, 200) || error.name;
}

/**
 * Ready when Redis answers PING within `timeoutMs` and the schedules are registered.
 * Pass a fail-fast connection (enableOfflineQueue: false) so a down Redis answers at once; the timeout guards the rest.
 */
export function redisReadiness(
  redis: Redis,
  isRegistered: () => boolean,
  timeoutMs: number = DEFAULT_READINESS_TIMEOUT_MS,
): () => Promise<ReadinessResult> {
  return async () => {
    const reasons: string[] = [];
    try {
      await withTimeout(redis.ping(), timeoutMs, 'redis PING');
    } catch (error) {
      reasons.push(`redis unreachable: ${describeRedisError(error)}`);
    }
    if (!isRegistered()) reasons.push('schedules not registered');
    return { ready: reasons.length === 0, reasons };
  };
}

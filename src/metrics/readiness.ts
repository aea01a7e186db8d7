/** /readyz: named checks (Redis, schedules, notifier, ...) combined into one answer that says why it is not ready. */
import type { Redis } from 'ioredis';
import { TimeoutError, withTimeout } from './timeout.ts';

export interface ReadinessResult {
  ready: boolean;
  /** Why not ready, one line each. */
  reasons: string[];
  /** Facts worth telling that do not make the process unready (e.g. a tenant in planned maintenance). */
  notes?: string[];
}

/** One aspect of readiness: `reason` set means not ready; `note` is shown either way. */
export interface ReadinessVerdict {
  reason?: string;
  note?: string;
}

export type ReadinessCheck = () => Promise<ReadinessVerdict | ReadinessVerdict[]>;

export const DEFAULT_READINESS_TIMEOUT_MS = 1000;

/** Runs every check concurrently; a check that throws counts as not ready with its message. */
export function combineReadiness(checks: readonly ReadinessCheck[]): () => Promise<ReadinessResult> {
  return async () => {
    const verdicts = await Promise.all(
      checks.map((check) =>
        check().catch((error: unknown): ReadinessVerdict => ({ reason: error instanceof Error ? error.message : String(error) })),
      ),
    );
    const flat = verdicts.flat();
    const reasons = flat.flatMap((v) => (v.reason ? [v.reason] : []));
    const notes = flat.flatMap((v) => (v.note ? [v.note] : []));
    return { ready: reasons.length === 0, reasons, ...(notes.length > 0 ? { notes } : {}) };
  };
}

function describeRedisError(error: unknown): string {
  if (error instanceof TimeoutError) return error.message;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  if (!(error instanceof Error)) return 'error';
  // ioredis messages name no credentials, but never echo anything that looks like a URL's userinfo.
  return error.message.replace(/\/\/[^@\s/]*@/g, '//***@').slice(0, 200) || error.name;
}

/**
 * Ready when Redis answers PING within `timeoutMs`.
 * Pass a fail-fast connection (enableOfflineQueue: false) so a down Redis answers at once; the timeout guards the rest.
 */
export function redisCheck(redis: Redis, timeoutMs: number = DEFAULT_READINESS_TIMEOUT_MS): ReadinessCheck {
  return async () => {
    try {
      await withTimeout(redis.ping(), timeoutMs, 'redis PING');
      return {};
    } catch (error) {
      return { reason: `redis unreachable: ${describeRedisError(error)}` };
    }
  };
}

/** Ready once the poll schedules are registered with BullMQ. */
export function schedulesCheck(isRegistered: () => boolean): ReadinessCheck {
  return async () => (isRegistered() ? {} : { reason: 'schedules not registered' });
}

/** Not ready while mail cannot be delivered (a configuration problem, or a notifier that could not start), saying why. */
export function mailCheck(problem: () => string | undefined): ReadinessCheck {
  return async () => {
    const reason = problem();
    return reason === undefined ? {} : { reason: `mail: ${reason}` };
  };
}

/** Redis reachable and schedules registered: the checks every daemon has. */
export function redisReadiness(
  redis: Redis,
  isRegistered: () => boolean,
  timeoutMs: number = DEFAULT_READINESS_TIMEOUT_MS,
): () => Promise<ReadinessResult> {
  return combineReadiness([redisCheck(redis, timeoutMs), schedulesCheck(isRegistered)]);
}

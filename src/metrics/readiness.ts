/** /readyz: named checks (Redis, schedules, notifier, ...) combined into one answer that says why it is not ready. */
import { explainRedisError, isCertificateError } from '../redis/errors.ts';
import type { Cluster } from 'ioredis';
import { connectionError, isCluster, type RedisClient } from '../redis/connections.ts';
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
  // A certificate problem says which key fixes it; other codes (ECONNREFUSED, ...) are clearer than their messages.
  if (typeof code === 'string' && !isCertificateError(error)) return code;
  return explainRedisError(error);
}

/**
 * A Cluster is usable only while every slot has a master that answers. The client's slot map says which
 * masters that takes; a master whose connection is gone (it died) or that does not answer PING makes the
 * Cluster unready, and the slot map is refreshed so that a replica that took over is found by the next check.
 */
class ClusterUnready extends Error {}

async function checkClusterMasters(redis: Cluster): Promise<void> {
  const CLUSTER_SLOTS = 16_384;
  const owners = redis.slots.map((nodes) => nodes?.[0]);
  const covered = owners.filter((key) => key !== undefined).length;
  const masters = [...new Set(owners.filter((key): key is string => key !== undefined))];
  if (covered < CLUSTER_SLOTS) {
    redis.refreshSlotsCache();
    throw new ClusterUnready(
      masters.length === 0 ? 'cluster: no slot map yet' : `cluster: ${CLUSTER_SLOTS - covered} slots have no master`,
    );
  }
  const pool = new Map(redis.nodes('master').map((node) => [`${node.options.host}:${node.options.port}`, node]));
  const unreachable: string[] = [];
  await Promise.all(
    masters.map(async (key) => {
      const node = pool.get(key);
      try {
        if (!node) throw new Error('no connection');
        await node.ping();
      } catch (error) {
        unreachable.push(
          `${key} (${error instanceof Error && error.message === 'no connection' ? 'no connection' : describeRedisError(error)})`,
        );
      }
    }),
  );
  if (unreachable.length > 0) {
    redis.refreshSlotsCache();
    throw new ClusterUnready(`cluster master unreachable: ${unreachable.sort().join(', ')}`);
  }
}

/**
 * Ready when Redis answers PING within `timeoutMs` (on a Cluster: every master does; with Sentinel: the
 * master the Sentinels name). Pass a fail-fast connection (enableOfflineQueue: false) so a down Redis answers
 * at once; the timeout guards the rest.
 */
export function redisCheck(redis: RedisClient, timeoutMs: number = DEFAULT_READINESS_TIMEOUT_MS): ReadinessCheck {
  return async () => {
    try {
      await withTimeout<unknown>(isCluster(redis) ? checkClusterMasters(redis) : redis.ping(), timeoutMs, 'redis PING');
      return {};
    } catch (error) {
      if (error instanceof ClusterUnready) return { reason: `redis ${error.message}` };
      // "Stream isn't writeable" says nothing: the error that broke the connection says why.
      return { reason: `redis unreachable: ${describeRedisError(connectionError(redis) ?? error)}` };
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
  redis: RedisClient,
  isRegistered: () => boolean,
  timeoutMs: number = DEFAULT_READINESS_TIMEOUT_MS,
): () => Promise<ReadinessResult> {
  return combineReadiness([redisCheck(redis, timeoutMs), schedulesCheck(isRegistered)]);
}

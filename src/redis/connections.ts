/** The one connection factory: every Redis client batchwatch or BullMQ uses is built here, for one node, Sentinel or Cluster. */
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { RedisClusterConfig, RedisSentinelConfig, RedisTarget } from '../config/types.ts';
import { explainRedisError } from './errors.ts';
import { fencedSentinelConnector, SentinelFence } from './sentinel-fence.ts';
import { parseRedisUrl } from './url.ts';

export type RedisClient = Redis | Cluster;

/**
 * What a connection is for, which decides how it waits for Redis:
 * - commands: the poll path (snapshot store, lock); a command waits briefly for a reconnect, then fails
 *   (the poll fails, the next tick tries again; nothing hangs);
 * - probe: readiness and scrapes; fails at once while Redis is away;
 * - queue: BullMQ queues and workers (BullMQ requires commands to wait for Redis however long it takes);
 * - notification-log: the notifier's record of sent mail; waits too, a record must not be dropped.
 */
export type RedisRole = 'commands' | 'probe' | 'queue' | 'notification-log';

interface RoleProfile {
  maxRetriesPerRequest: number | null;
  enableOfflineQueue: boolean;
  connectTimeout: number;
  /** Cluster: how often the slot map is re-read without being told (a MOVED reply also refreshes it). */
  slotsRefreshInterval: number;
  /**
   * A blocking command (BullMQ's BZPOPMIN) that got no answer within its own timeout (plus 100 ms), or within
   * this long when it has none, resolves as a timeout instead of waiting forever on a connection a failover left
   * behind; the worker then simply asks again, on the current master.
   */
  blockingTimeout?: number;
}

const ROLES: Record<RedisRole, RoleProfile> = {
  commands: { maxRetriesPerRequest: 2, enableOfflineQueue: true, connectTimeout: 5000, slotsRefreshInterval: 5000 },
  // Readiness reads the slot map: keep it fresh so a finished failover shows within seconds.
  probe: { maxRetriesPerRequest: 0, enableOfflineQueue: false, connectTimeout: 1000, slotsRefreshInterval: 2000 },
  queue: {
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    connectTimeout: 5000,
    slotsRefreshInterval: 5000,
    blockingTimeout: 15_000,
  },
  'notification-log': { maxRetriesPerRequest: null, enableOfflineQueue: true, connectTimeout: 5000, slotsRefreshInterval: 5000 },
};

/** Reconnect quickly at first, then every 2 s; never give up (Redis outages end). */
const reconnectDelay = (attempt: number): number => Math.min(attempt * 200, 2000);

/**
 * With Sentinel, READONLY means this connection still talks to a master that was demoted: reconnect (which
 * asks the Sentinels for the current master) and resend the command there. On a single node a reconnect would
 * reach the same server, so the error is left to the caller.
 */
export function reconnectOnFailoverReply(error: Error): 2 | false {
  return error.message.startsWith('READONLY') ? 2 : false;
}

/** The part of a logger the factory uses (pino's Logger fits). */
export interface ConnectionLog {
  warn(fields: object, msg: string): void;
  info(fields: object, msg: string): void;
  debug(fields: object, msg: string): void;
}

export class RedisTargetError extends Error {
  override name = 'RedisTargetError';
}

function tlsOptions(target: RedisTarget): { ca?: string } {
  return target.tls ? { ca: target.tls.ca } : {};
}

function singleNodeOptions(url: string, target: RedisTarget): RedisOptions {
  const parsed = parseRedisUrl(url);
  // The config loader validates redis.url already; this guards callers that build a target by hand.
  if (!parsed.ok) throw new RedisTargetError(`redis.url ${parsed.problem}`);
  const { parts } = parsed;
  return {
    host: parts.host,
    port: parts.port,
    db: parts.db,
    ...(parts.username ? { username: parts.username } : {}),
    ...(parts.password ? { password: parts.password } : {}),
    ...(parts.tls ? { tls: tlsOptions(target) } : {}),
  };
}

/** One fence per Sentinel target (per config object), shared by every client of this process. */
const fences = new WeakMap<RedisSentinelConfig, SentinelFence>();

function fenceFor(sentinel: RedisSentinelConfig, target: RedisTarget, log: ConnectionLog | undefined): SentinelFence {
  let fence = fences.get(sentinel);
  if (!fence) {
    fence = new SentinelFence({ sentinel, ...(sentinel.tls ? { tls: tlsOptions(target) } : {}), ...(log ? { log } : {}) });
    fences.set(sentinel, fence);
  }
  fence.log ??= log;
  return fence;
}

/** True while a Sentinel failover holds this process's connections to `target`. */
export function failoverInProgress(target: RedisTarget): boolean {
  return target.sentinel ? (fences.get(target.sentinel)?.failoverInProgress ?? false) : false;
}

/**
 * Ends what the factory keeps per target besides the clients (the Sentinel event subscriptions). Call it
 * after closing the clients made for `target`.
 */
export function closeRedisTarget(target: RedisTarget): void {
  if (!target.sentinel) return;
  fences.get(target.sentinel)?.close();
  fences.delete(target.sentinel);
}

function sentinelOptions(sentinel: RedisSentinelConfig, target: RedisTarget, log: ConnectionLog | undefined): RedisOptions {
  const tls = sentinel.tls ? tlsOptions(target) : undefined;
  return {
    name: sentinel.name,
    role: 'master',
    sentinels: sentinel.nodes.map(({ host, port }) => ({ host, port })),
    ...(sentinel.username ? { username: sentinel.username } : {}),
    ...(sentinel.password ? { password: sentinel.password } : {}),
    ...(sentinel.sentinelPassword ? { sentinelPassword: sentinel.sentinelPassword } : {}),
    ...(tls ? { tls, sentinelTLS: tls, enableTLSForSentinelMode: true } : {}),
    // Sentinel-aware reconnects: held while a failover runs, moved to the new master when it is announced
    // (see sentinel-fence.ts). ioredis's own failoverDetector is left off: it can end a client for good.
    Connector: fencedSentinelConnector(fenceFor(sentinel, target, log)),
    sentinelRetryStrategy: reconnectDelay,
    reconnectOnError: reconnectOnFailoverReply,
  };
}

/** What Cluster's constructor takes (ioredis's own ClusterOptions type does not fit it under exactOptionalPropertyTypes). */
type ClusterConstructorOptions = NonNullable<ConstructorParameters<typeof Cluster>[1]>;

function clusterOptions(
  cluster: RedisClusterConfig,
  target: RedisTarget,
  profile: RoleProfile,
  connectionName: string,
): ClusterConstructorOptions {
  return {
    enableOfflineQueue: profile.enableOfflineQueue,
    clusterRetryStrategy: reconnectDelay,
    // A failover moves slots: retry commands on the new master instead of failing them at once.
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 200,
    retryDelayOnTryAgain: 200,
    slotsRefreshInterval: profile.slotsRefreshInterval,
    // Connect to nodes by the addresses the cluster announces, without a DNS round (needed for TLS to named hosts).
    dnsLookup: (address, callback) => callback(null, address),
    redisOptions: {
      connectionName,
      connectTimeout: profile.connectTimeout,
      maxRetriesPerRequest: profile.maxRetriesPerRequest,
      ...(profile.blockingTimeout ? { blockingTimeout: profile.blockingTimeout } : {}),
      ...(cluster.username ? { username: cluster.username } : {}),
      ...(cluster.password ? { password: cluster.password } : {}),
      ...(cluster.tls ? { tls: tlsOptions(target) } : {}),
    },
  };
}

/**
 * Logs a lost connection once (warn) and its recovery once (info), not every reconnect attempt,
 * so an outage reads as two lines in the log. The error names the config key to change when it can.
 */
function reportOutages(redis: RedisClient, role: RedisRole, log: ConnectionLog): void {
  let down = false;
  redis.on('error', (error: Error) => {
    const err = explainRedisError(error);
    if (!down) log.warn({ role, err }, 'Redis unreachable; retrying in the background');
    else log.debug({ role, err }, 'Redis still unreachable');
    down = true;
  });
  redis.on('ready', () => {
    if (down) log.info({ role }, 'Redis connection restored');
    down = false;
  });
}

/** The error that broke each client's connection, until it is ready again (for readiness and `check`). */
const lastErrors = new WeakMap<RedisClient, Error>();

/** Why `client` (made here) is not connected right now, if it said. */
export function connectionError(client: RedisClient): Error | undefined {
  return lastErrors.get(client);
}

/**
 * A new client for `role` on `target` (a plain `{ url }` is a target too). With `log`, outages of this
 * connection are logged; without, its errors are left to whoever uses it (BullMQ reports its own).
 */
export function createRedisClient(target: RedisTarget, role: RedisRole, log?: ConnectionLog): RedisClient {
  const profile = ROLES[role];
  const connectionName = `batchwatch:${role}`;
  let client: RedisClient;
  if (target.cluster) {
    client = new Cluster(
      target.cluster.nodes.map(({ host, port }) => ({ host, port })),
      clusterOptions(target.cluster, target, profile, connectionName),
    );
    endSlotRefreshWhenClosed(client);
  } else {
    // Without replyMapping: ioredis's RedisOptions spells it `| undefined`, which its constructor does not take.
    const options: Omit<RedisOptions, 'replyMapping'> = {
      ...(target.sentinel ? sentinelOptions(target.sentinel, target, log) : singleNodeOptions(target.url, target)),
      connectionName,
      connectTimeout: profile.connectTimeout,
      maxRetriesPerRequest: profile.maxRetriesPerRequest,
      enableOfflineQueue: profile.enableOfflineQueue,
      ...(profile.blockingTimeout ? { blockingTimeout: profile.blockingTimeout } : {}),
      retryStrategy: reconnectDelay,
    };
    client = new Redis(options);
  }
  // An 'error' event without a listener would crash the process.
  if (log) reportOutages(client, role, log);
  else client.on('error', () => undefined);
  const remember = client;
  client.on('error', (error: Error) => lastErrors.set(remember, error));
  client.on('ready', () => lastErrors.delete(remember));
  return client;
}

/** The states of a Cluster client that was closed (disconnect() or quit()) and is not connecting again. */
const CLOSED_CLUSTER_STATES: ReadonlySet<string> = new Set(['disconnecting', 'close', 'end']);

/**
 * ioredis (6.0.0) stops its periodic slot refresh (slotsRefreshInterval) in disconnect(), but a refresh already in
 * flight re-arms it when it completes, and the re-armed loop then runs every few seconds on the closed client for
 * good: a ref'd timer that keeps a stopped process alive (seen: a test process that never exited after its Cluster
 * tests). On a client closed by us, a slot refresh does nothing and so never schedules the next round; connect()
 * moves the status to "connecting" first, so a client that connects again refreshes as before.
 */
function endSlotRefreshWhenClosed(cluster: Cluster): void {
  const internals = cluster as unknown as { refreshSlotsCache: (callback?: (error?: Error) => void) => void };
  const refresh = internals.refreshSlotsCache.bind(cluster);
  internals.refreshSlotsCache = (callback) => {
    if (CLOSED_CLUSTER_STATES.has(cluster.status)) return;
    refresh(callback);
  };
}

export function isCluster(client: RedisClient): client is Cluster {
  return client instanceof Cluster;
}

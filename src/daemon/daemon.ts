/** The daemon: wires config, Redis, SuperOffice client, scheduler, notifier and HTTP server together. */
import { redactedConfig } from '../redact/config.ts';
import type { Config } from '../config/types.ts';
import type { Logger } from '../log.ts';
import { logCallback } from '../log.ts';
import { createMetrics } from '../metrics/registry.ts';
import { combineReadiness, mailCheck, redisCheck, schedulesCheck, type ReadinessCheck } from '../metrics/readiness.ts';
import { maintenanceCheck } from '../metrics/maintenance-readiness.ts';
import { SnapshotRefresher } from '../metrics/snapshot-view.ts';
import { closeRedisTarget, failoverInProgress, type RedisClient } from '../redis/connections.ts';
import { healthRoutes, metricsRoute } from '../http/core-routes.ts';
import { silenceApiRoutes } from '../http/api-routes.ts';
import { statusRoutes } from '../http/status-routes.ts';
import { NotificationHistory } from '../notify/history.ts';
import { StatusCollector } from '../status/collector.ts';
import { startHttpServer } from '../http/server.ts';
import { endedAckKeepMs } from '../silence/ack-store.ts';
import { SilenceApi } from '../silence/api.ts';
import { SilenceControls } from '../silence/controls.ts';
import { pollSchedule, type PollDeps } from '../monitor/poll.ts';
import { PollScheduler } from '../schedule/poll-scheduler.ts';
import { SilenceCensus } from '../silence/silence-census.ts';
import { SilenceStore } from '../silence/silence-store.ts';
import { forgetRemovedSchedules } from '../store/removed-schedules.ts';
import { SnapshotCache } from '../store/snapshot-cache.ts';
import { SnapshotStore } from '../store/snapshot-store.ts';
import { createSuperOfficeClient } from '../superoffice/client.ts';
import { tenantStatusFor } from '../superoffice/tenant-status.ts';
import { createCommandRedis, createProbeRedis } from './redis-connections.ts';
import { configuredNotifier } from './configured-notifier.ts';

/** How long a new snapshot of many tasks waits before /metrics reflects it: the notification path goes first. */
const METRICS_INDEX_DELAY_MS = 1000;

export interface Daemon {
  readonly httpUrl: string;
  close(): Promise<void>;
}

/** The one place where the adapters are wired together. */
export async function startDaemon(config: Config, log: Logger): Promise<Daemon> {
  const scheduleNames = config.schedules.map((s) => s.name);
  log.info({ config: redactedConfig(config) }, 'starting with this configuration (secrets masked)');
  const commandRedis = createCommandRedis(config.redis, log);
  const probeRedis = createProbeRedis(config.redis, log);
  // One in-memory copy of each snapshot, shared by the poll path and the metrics.
  const cache = new SnapshotCache();
  const store = new SnapshotStore(commandRedis, config.redis.prefix, cache);
  const probeStore = new SnapshotStore(probeRedis, config.redis.prefix, cache);
  // Keeps this replica's copy of every schedule current (other replicas poll too), in the background.
  const refresher = new SnapshotRefresher({
    cache,
    refresh: (schedules) => probeStore.loadAll(schedules),
    schedules: scheduleNames,
    connected: () => probeRedis.status === 'ready',
    log: logCallback(log.child({ component: 'metrics' })),
  });

  let notifierDepth: () => Promise<number> = async () => 0;
  // Silences by state for batchwatch_silences, read in the background (the command connection waits for Redis at start).
  const silencesLog = log.child({ component: 'silences' });
  // The census reads every silence every 15 s: it is the one that reports a stored silence it cannot read.
  const censusStore = new SilenceStore(commandRedis, config.redis.prefix, Date.now, (msg, fields) => silencesLog.warn(fields, msg));
  const silenceCensus = new SilenceCensus({ store: censusStore, log: logCallback(silencesLog) });
  const metrics = createMetrics({
    snapshots: refresher,
    queueDepth: () => notifierDepth(),
    schedules: scheduleNames,
    maxExportedTasks: config.metrics.maxExportedTasks,
    // With 10,000 tasks or more, a poll's mail goes out before its snapshot's series are rebuilt (a scrape
    // meanwhile shows the previous poll).
    indexDelayMs: METRICS_INDEX_DELAY_MS,
    log: logCallback(log.child({ component: 'metrics' })),
    silenceCounts: () => silenceCensus.counts(),
  });
  const { instruments } = metrics;
  silenceCensus.start();

  const notifier = configuredNotifier(config, log.child({ component: 'notify' }), instruments);
  notifierDepth = () => notifier.depth();

  const client = createSuperOfficeClient(config.superoffice, {
    onCallError: (kind) => instruments.superofficeCallError(kind),
    log: logCallback(log.child({ component: 'superoffice' })),
  });
  const tenantStatus = tenantStatusFor(config.superoffice);
  const silenceStore = new SilenceStore(commandRedis, config.redis.prefix);
  const pollDeps: PollDeps = {
    source: client,
    store,
    sink: notifier,
    rules: config.rules,
    instruments,
    log: log.child({ component: 'poll' }),
    ...(tenantStatus ? { tenantStatus } : {}),
    silences: () => silenceStore.all(),
    windows: config.maintenance ?? [],
    ackKeepMs: endedAckKeepMs(config.mail.retryFor),
  };
  const scheduler = new PollScheduler({
    redis: config.redis,
    prefix: config.redis.prefix,
    schedules: config.schedules,
    store,
    runPoll: (schedule) => pollSchedule(schedule, pollDeps),
    log: log.child({ component: 'schedule' }),
  });

  const readinessChecks: ReadinessCheck[] = [
    redisCheck(probeRedis),
    sentinelFailoverCheck(config),
    schedulesCheck(() => scheduler.registered),
    mailCheck(() => notifier.problem()),
  ];
  if (tenantStatus) {
    readinessChecks.push(maintenanceCheck(() => probeStore.loadAll(scheduleNames), { tenant: tenantStatus.contextIdentifier }));
  }

  // The probe connection fails fast while it is still connecting: give it a moment before the first refresh.
  await readyWithin(probeRedis, 2000);
  await refresher.start();
  probeRedis.on('ready', () => void refresher.refreshNow());

  // Silences and acknowledgements over HTTP, on the fail-fast connection (a down Redis answers 503 at once).
  // The same controls are what the status page asks (StatusControls).
  const silenceControls = new SilenceControls({
    redis: probeRedis,
    prefix: config.redis.prefix,
    schedules: scheduleNames,
    windows: config.maintenance ?? [],
    snapshots: () => probeStore.loadAll(scheduleNames),
  });
  const apiLog = logCallback(log.child({ component: 'api' }));
  const silenceApi = new SilenceApi(silenceControls, config.http.adminToken, apiLog);

  // The status page (GET /, /api/v1/status) reads on request, never on the poll path: the in-process snapshots,
  // and silences, acknowledgements and the notification log on the fail-fast connection (cached briefly).
  const status = new StatusCollector({
    schedules: config.schedules,
    snapshots: refresher,
    controls: silenceControls,
    history: new NotificationHistory(probeRedis, config.redis.prefix),
  });

  const http = await startHttpServer({
    host: config.http.host,
    port: config.http.port,
    routes: [
      metricsRoute(metrics),
      ...healthRoutes({ readiness: combineReadiness(readinessChecks) }),
      ...silenceApiRoutes(silenceApi, apiLog),
      ...statusRoutes(status),
    ],
    log: logCallback(log.child({ component: 'http' })),
  });
  log.info({ url: http.url, schedules: scheduleNames }, 'HTTP listening');

  let stopping = false;
  // Redis may be down at start-up: keep trying to register in the background; /readyz says 503 until then.
  const registration = (async () => {
    for (let attempt = 1; !stopping; attempt++) {
      try {
        await scheduler.register();
        scheduler.start();
        log.info({ schedules: scheduleNames }, 'schedules registered; polling');
        // Schedules dropped from the config no longer get polls (register() removed their schedulers): their keys can go.
        await forgetRemovedSchedules({
          redis: commandRedis,
          prefix: config.redis.prefix,
          configured: scheduleNames,
          store,
          sink: notifier,
          log,
        }).catch((error: unknown) =>
          log.warn(
            { err: (error as Error).message },
            'could not clean up the Redis state of schedules no longer in the config; trying again at the next start',
          ),
        );
        break;
      } catch (error) {
        log.error({ err: (error as Error).message, attempt }, 'could not register schedules (is Redis reachable?); retrying');
        await new Promise((r) => setTimeout(r, Math.min(1000 * attempt, 10_000)));
      }
    }
    // Not a Redis matter: a notifier that cannot start (its mail configuration) says so itself, in the log and in /readyz.
    if (!stopping) {
      await notifier
        .start()
        .catch((error: unknown) =>
          log.error({ err: error instanceof Error ? error.message : String(error) }, 'mail notifier failed to start'),
        );
    }
  })();

  return {
    httpUrl: http.url,
    async close() {
      stopping = true;
      // Registration waits on Redis; if Redis is down there is nothing to hand back, so don't wait long.
      let waited: NodeJS.Timeout | undefined;
      await Promise.race([registration, new Promise((r) => (waited = setTimeout(r, 1000)))]);
      clearTimeout(waited);
      // Concurrently, to fit the shutdown budget. A batch committed by the finishing poll after the
      // notifier closed stays in the schedule's outbox and is handed over on the next start.
      await Promise.all([scheduler.close(), notifier.close()]);
      await http.close();
      silenceCensus.stop();
      await refresher.stop();
      metrics.close();
      // quit() waits for Redis and leaves a reconnect loop running while it is down: disconnect instead.
      commandRedis.disconnect();
      probeRedis.disconnect();
      closeRedisTarget(config.redis);
    },
  };
}

/** Not ready while a Sentinel failover holds the Redis connections (they resume by themselves). */
function sentinelFailoverCheck(config: Config): ReadinessCheck {
  return async () =>
    failoverInProgress(config.redis)
      ? { reason: `redis: Sentinel failover of ${config.redis.sentinel?.name ?? 'the master'} in progress` }
      : {};
}

/** Resolves when the connection is ready or after `ms`, whichever comes first (never rejects: Redis may be down). */
function readyWithin(redis: RedisClient, ms: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      redis.off('ready', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    redis.on('ready', done);
  });
}

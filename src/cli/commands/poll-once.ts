/** `batchwatch poll-once`: polls each schedule once and prints tasks and events (optionally without writing). */
import { loadConfig, resolveConfigPath } from '../../config/load.ts';
import { createLogger, logCallback } from '../../log.ts';
import { noopInstruments } from '../../metrics/instruments.ts';
import { pollSchedule, type PollReport } from '../../monitor/poll.ts';
import type { Notifier } from '../../notify/notifier.ts';
import { configuredNotifier } from '../../daemon/configured-notifier.ts';
import { createCommandRedis } from '../../daemon/redis-connections.ts';
import { describeTarget } from '../../redis/topology.ts';
import { closeRedisTarget } from '../../redis/connections.ts';
import { endedAckKeepMs } from '../../silence/ack-store.ts';
import { SilenceStore } from '../../silence/silence-store.ts';
import { SnapshotStore } from '../../store/snapshot-store.ts';
import { createSuperOfficeClient } from '../../superoffice/client.ts';
import { tenantStatusFor } from '../../superoffice/tenant-status.ts';
import { parseCommandArgs, UsageError } from '../args.ts';
import { formatReport, reportJson } from '../format.ts';

const DELIVERY_WAIT_MS = 15_000;

export async function pollOnceCommand(argv: string[]): Promise<number> {
  const values = parseCommandArgs(argv, {
    config: { type: 'string' },
    schedule: { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  });
  const config = loadConfig(resolveConfigPath(values.config, process.env));
  const schedules = values.schedule ? config.schedules.filter((s) => s.name === values.schedule) : config.schedules;
  if (schedules.length === 0) {
    throw new UsageError(`no schedule named "${values.schedule}" (configured: ${config.schedules.map((s) => s.name).join(', ')})`);
  }
  const dryRun = values['dry-run'] === true;
  // Logs go to stderr so stdout stays the report (and valid JSON with --json).
  const log = createLogger(config.log.level === 'info' ? 'warn' : config.log.level, process.stderr);
  const redis = createCommandRedis(config.redis, log);
  const notifier = dryRun ? null : configuredNotifier(config, log);
  try {
    const store = new SnapshotStore(redis, config.redis.prefix);
    const silences = new SilenceStore(redis, config.redis.prefix);
    const client = createSuperOfficeClient(config.superoffice, { log: logCallback(log) });
    const tenantStatus = tenantStatusFor(config.superoffice);
    const reports: PollReport[] = [];
    for (const schedule of schedules) {
      const deps = {
        source: client,
        store,
        ...(notifier ? { sink: notifier } : {}),
        ...(tenantStatus ? { tenantStatus } : {}),
        rules: config.rules,
        instruments: noopInstruments,
        log,
        silences: () => silences.all(),
        windows: config.maintenance ?? [],
        ackKeepMs: endedAckKeepMs(config.mail.retryFor),
      };
      // SuperOffice errors are part of the report; what escapes pollSchedule is the snapshot store.
      const report = await pollSchedule(schedule, deps, { dryRun }).catch((error: unknown) => {
        throw new Error(
          `schedule ${schedule.name}: Redis at ${describeTarget(config.redis)} is not usable: ${error instanceof Error ? error.message : String(error)}`,
        );
      });
      reports.push(report);
    }
    const anyEvents = reports.some((r) => r.events.length > 0);
    const delivery =
      !anyEvents || dryRun ? null : !config.mail.enabled ? 'mail is disabled (mail.enabled: false)' : await deliver(notifier!);
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ dryRun, schedules: reports.map(reportJson), delivery }, null, 2)}\n`);
    } else {
      for (const report of reports) process.stdout.write(`${formatReport(report)}\n`);
      if (dryRun) process.stdout.write('dry run: nothing written, nothing sent\n');
      if (delivery) process.stdout.write(`notifications: ${delivery}\n`);
    }
    return reports.every((r) => r.result === 'success') ? 0 : 1;
  } finally {
    await notifier?.close();
    redis.disconnect();
    closeRedisTarget(config.redis);
  }
}

/** Sends what this poll queued (unless a running daemon's worker takes it first). */
async function deliver(notifier: Notifier): Promise<string> {
  await notifier.start();
  const deadline = Date.now() + DELIVERY_WAIT_MS;
  while (Date.now() < deadline) {
    if ((await notifier.depth()) === 0) return 'delivered';
    const problem = notifier.problem();
    if (problem !== undefined) return `not delivered: ${problem} (queued in Redis; \`batchwatch run\` sends it once this is fixed)`;
    await new Promise((r) => setTimeout(r, 200));
  }
  return 'not delivered yet; queued in Redis, `batchwatch run` keeps retrying until mail.retryFor';
}

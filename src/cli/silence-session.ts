/** What `silence` and `ack` share: the config, a Redis connection, the controls over it, and errors in the CLI's words. */
import { userInfo } from 'node:os';
import { loadConfig, resolveConfigPath } from '../config/load.ts';
import type { Config } from '../config/types.ts';
import { createCommandRedis } from '../daemon/redis-connections.ts';
import { createLogger } from '../log.ts';
import { closeRedisTarget } from '../redis/connections.ts';
import { describeTarget } from '../redis/topology.ts';
import { SilenceControls } from '../silence/controls.ts';
import { RequestError } from '../silence/requests.ts';
import { SilenceNotFoundError } from '../silence/silence-store.ts';
import { SnapshotStore } from '../store/snapshot-store.ts';
import { UsageError } from './args.ts';

/** Request fields and the flags that set them. */
const FLAGS: Record<string, string> = {
  task: '--task',
  taskId: '--task-id',
  associate: '--associate',
  schedule: '--schedule',
  kind: '--kind',
  for: '--for',
  until: '--until',
  from: '--from',
  comment: '--comment',
  author: '--author',
};

/** The person running the command: $BATCHWATCH_AUTHOR, else the OS user. */
export function defaultAuthor(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.BATCHWATCH_AUTHOR?.trim();
  if (fromEnv) return fromEnv;
  try {
    return userInfo().username || 'unknown';
  } catch {
    return env.USER ?? env.USERNAME ?? 'unknown';
  }
}

/** A request problem as a usage error naming the flag (exit 2). */
export function usageErrorFor(error: RequestError): UsageError {
  if (error.cliProblem !== undefined) return new UsageError(error.cliProblem);
  const flag = FLAGS[error.field];
  return new UsageError(flag ? `${flag} ${error.problem}` : error.problem);
}

/** Runs `fn` with controls over the configured Redis; Redis trouble is a runtime failure (exit 1) naming where. */
export async function withControls<T>(
  configFlag: string | undefined,
  fn: (controls: SilenceControls, config: Config) => Promise<T>,
): Promise<T> {
  const config = loadConfig(resolveConfigPath(configFlag, process.env));
  const log = createLogger(config.log.level === 'info' ? 'warn' : config.log.level, process.stderr);
  const redis = createCommandRedis(config.redis, log);
  const names = config.schedules.map((s) => s.name);
  const store = new SnapshotStore(redis, config.redis.prefix);
  const controls = new SilenceControls({
    redis,
    prefix: config.redis.prefix,
    schedules: names,
    windows: config.maintenance ?? [],
    snapshots: () => store.loadAll(names),
    log: (msg, fields) => log.warn(fields, msg),
  });
  try {
    return await fn(controls, config);
  } catch (error) {
    if (error instanceof RequestError) throw usageErrorFor(error);
    if (error instanceof SilenceNotFoundError) throw new UsageError(`${error.message} (batchwatch silence list shows them)`);
    if (error instanceof UsageError) throw error;
    throw new Error(`Redis at ${describeTarget(config.redis)} is not usable: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    redis.disconnect();
    closeRedisTarget(config.redis);
  }
}

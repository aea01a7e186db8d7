import { ConfigError, loadConfig, resolveConfigPath } from '../../config/load.ts';
import type { Config } from '../../config/types.ts';
import { closeRedisTarget, createRedisClient } from '../../redis/connections.ts';
import { explainRedisError } from '../../redis/errors.ts';
import { describeTarget, describeTopology } from '../../redis/topology.ts';
import { verifySmtp } from '../../notify/test-email.ts';
import { createSuperOfficeClient } from '../../superoffice/client.ts';
import { parseCommandArgs } from '../args.ts';
import { redactUrl } from '../../redact/config.ts';

interface CheckLine {
  ok: boolean;
  name: string;
  detail: string;
}

function print(line: CheckLine): void {
  process.stdout.write(`${line.ok ? 'ok  ' : 'FAIL'}  ${line.name.padEnd(22)} ${line.detail}\n`);
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await fn();
  return { value, ms: Math.round(performance.now() - start) };
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function checkRedis(config: Config): Promise<CheckLine> {
  const redis = createRedisClient(config.redis, 'probe');
  const name = 'redis';
  let lastError: unknown = null;
  redis.on('error', (error: unknown) => (lastError = error));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(lastError ? explainRedisError(lastError) : 'no connection within 3 s')), 3000);
      redis.once('ready', () => (clearTimeout(timer), resolve()));
    });
    const { ms } = await timed(() => redis.ping());
    const info = await redis.info('server');
    const version = /redis_version:(\S+)/.exec(info)?.[1] ?? '?';
    const policy = (await redis.config('GET', 'maxmemory-policy').catch(() => [])) as string[];
    const eviction = policy[1] && policy[1] !== 'noeviction' ? ` — warning: maxmemory-policy is ${policy[1]}, use noeviction` : '';
    const topology = await describeTopology(redis, config.redis);
    const joiner = config.redis.url !== undefined ? ' ' : ', ';
    return { ok: true, name, detail: `${topology}${joiner}reachable (PING ${ms} ms, Redis ${version})${eviction}` };
  } catch (error) {
    return { ok: false, name, detail: `${describeTarget(config.redis)}: ${error instanceof Error && error.message.startsWith('no ') ? error.message : explainRedisError(error)}` };
  } finally {
    redis.disconnect();
    closeRedisTarget(config.redis);
  }
}

async function checkSuperOffice(config: Config): Promise<CheckLine[]> {
  const client = createSuperOfficeClient(config.superoffice);
  const how = config.superoffice.ticket ? 'static ticket' : `user ${config.superoffice.username}`;
  try {
    const { ms } = await timed(() => client.authenticate());
    const lines: CheckLine[] = [{ ok: true, name: 'superoffice auth', detail: `${config.superoffice.url} (${how}, ${ms} ms)` }];
    for (const schedule of config.schedules) {
      try {
        const { value, ms: callMs } = await timed(() => client.getBatchTaskInfosByAssociates(schedule.associates));
        lines.push({ ok: true, name: `schedule ${schedule.name}`, detail: `${plural(value.length, 'task')} for ${plural(schedule.associates.length, 'associate')} (${callMs} ms)` });
      } catch (error) {
        lines.push({ ok: false, name: `schedule ${schedule.name}`, detail: message(error) });
      }
    }
    return lines;
  } catch (error) {
    return [{ ok: false, name: 'superoffice auth', detail: `${config.superoffice.url} (${how}): ${message(error)}` }];
  }
}

async function checkSmtp(config: Config): Promise<CheckLine> {
  if (!config.mail.enabled) return { ok: true, name: 'smtp', detail: 'mail.enabled is false: notifications are off (metrics only)' };
  try {
    const detail = await verifySmtp(config.mail);
    return { ok: true, name: 'smtp', detail: `${redactUrl(config.mail.smtp)} ${detail}` };
  } catch (error) {
    return { ok: false, name: 'smtp', detail: message(error) };
  }
}

export async function checkCommand(argv: string[]): Promise<number> {
  const values = parseCommandArgs(argv, { config: { type: 'string' } });
  const path = resolveConfigPath(values.config, process.env);
  let config: Config;
  try {
    config = loadConfig(path);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    print({ ok: false, name: 'config', detail: error.message });
    return 2;
  }
  const associates = config.schedules.reduce((n, s) => n + s.associates.length, 0);
  const lines: CheckLine[] = [{ ok: true, name: 'config', detail: `${path}: ${plural(config.schedules.length, 'schedule')}, ${plural(associates, 'associate')}` }];
  print(lines[0]!);
  for (const run of [() => checkRedis(config), () => checkSuperOffice(config), () => checkSmtp(config)]) {
    const result = await run();
    for (const line of Array.isArray(result) ? result : [result]) {
      print(line);
      lines.push(line);
    }
  }
  return lines.every((l) => l.ok) ? 0 : 1;
}

/** `batchwatch check`: validates the config and reaches Redis, SuperOffice and SMTP, saying what is wrong. */
import { ConfigError, loadConfig, resolveConfigPath } from '../../config/load.ts';
import type { Config } from '../../config/types.ts';
import { oneLine } from '../../core/text.ts';
import { closeRedisTarget, createRedisClient } from '../../redis/connections.ts';
import { explainRedisError } from '../../redis/errors.ts';
import { describeTarget, describeTopology } from '../../redis/topology.ts';
import { verifySmtp } from '../../notify/test-email.ts';
import { createSuperOfficeClient, type AuthenticationInfo } from '../../superoffice/client.ts';
import { tenantStatusFor } from '../../superoffice/tenant-status.ts';
import { scrubSecrets } from '../../redact/secrets.ts';
import { parseCommandArgs } from '../args.ts';
import { redactUrl } from '../../redact/config.ts';

interface CheckLine {
  ok: boolean;
  name: string;
  detail: string;
}

function print(line: CheckLine): void {
  // Details quote SuperOffice and error texts: one line each, and never a secret.
  const detail = oneLine(scrubSecrets(line.detail));
  process.stdout.write(`${line.ok ? 'ok  ' : 'FAIL'}  ${line.name.padEnd(22)} ${detail}\n`);
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await fn();
  return { value, ms: Math.round(performance.now() - start) };
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** "3 associates", "all associates", "all associates and system tasks". */
function watched(schedule: Config['schedules'][number]): string {
  if (schedule.associates !== 'all') return plural(schedule.associates.length, 'associate');
  return schedule.includeSystemTasks ? 'all associates and system tasks' : 'all associates';
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
      redis.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
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
    return {
      ok: false,
      name,
      detail: `${describeTarget(config.redis)}: ${error instanceof Error && error.message.startsWith('no ') ? error.message : explainRedisError(error)}`,
    };
  } finally {
    redis.disconnect();
    closeRedisTarget(config.redis);
  }
}

function describeLogin(config: Config, info: AuthenticationInfo): string {
  if (info.method === 'ticket') return 'static ticket';
  if (info.method === 'username') return `user ${config.superoffice.username ?? ''}`;
  const session = info.systemUser;
  const systemUser = config.superoffice.systemUser;
  if (!session || !systemUser) return 'system user';
  const verified = session.verified
    ? `JWT signature and exp verified with ${systemUser.jwtCertificate?.file ?? 'superoffice.systemUser.jwtCertificate'}`
    : 'JWT not verified: set superoffice.systemUser.jwtCertificate to verify it';
  return `system user of tenant ${session.contextIdentifier} via ${redactUrl(systemUser.loginUrl)}, ticket from JWT claim ${session.claim}; ${verified}`;
}

/** Tenant state first: a tenant in maintenance explains why the calls after it fail. */
async function checkTenantState(config: Config): Promise<{ line: CheckLine; maintenance: string | null } | null> {
  const status = tenantStatusFor(config.superoffice);
  if (!status) return null;
  const name = 'tenant state';
  try {
    const state = await status.current();
    if (state.running)
      return { line: { ok: true, name, detail: `${state.contextIdentifier} is Running (${redactUrl(status.url)})` }, maintenance: null };
    return {
      line: {
        ok: true,
        name,
        detail: `${state.contextIdentifier} is in planned maintenance (${state.state}): failed polls are not counted as an outage until it is Running again`,
      },
      maintenance: state.state,
    };
  } catch (error) {
    return {
      line: { ok: false, name, detail: `${redactUrl(status.url)}: ${message(error)} (superoffice.tenantStatusUrl)` },
      maintenance: null,
    };
  }
}

async function checkSuperOffice(config: Config): Promise<CheckLine[]> {
  const lines: CheckLine[] = [];
  const tenant = await checkTenantState(config);
  if (tenant) lines.push(tenant.line);
  const inMaintenance = tenant?.maintenance ? ` (the tenant is in planned maintenance: ${tenant.maintenance})` : '';
  const client = createSuperOfficeClient(config.superoffice);
  const how = config.superoffice.ticket
    ? 'static ticket'
    : config.superoffice.systemUser
      ? 'system user'
      : `user ${config.superoffice.username}`;
  let info: AuthenticationInfo;
  let authMs: number;
  try {
    ({ value: info, ms: authMs } = await timed(() => client.authenticate()));
  } catch (error) {
    return [
      ...lines,
      { ok: false, name: 'superoffice auth', detail: `${redactUrl(config.superoffice.url)} (${how}): ${message(error)}${inMaintenance}` },
    ];
  }
  lines.push({
    ok: true,
    name: 'superoffice auth',
    detail: `${redactUrl(config.superoffice.url)} (${describeLogin(config, info)}, ${authMs} ms)`,
  });
  const session = info.systemUser;
  if (session && (session.netserverUrl || session.webapiUrl)) {
    const claims = [
      ...(session.netserverUrl ? [`netserver_url ${redactUrl(session.netserverUrl)}`] : []),
      ...(session.webapiUrl ? [`webapi_url ${redactUrl(session.webapiUrl)}`] : []),
    ];
    lines.push({ ok: true, name: 'superoffice claims', detail: claims.join(', ') });
  }
  for (const schedule of config.schedules) {
    try {
      const { value, ms: callMs } = await timed(() => client.tasksFor(schedule));
      const unreadable = value.unreadable.length > 0 ? ` (${value.unreadable.length} left out: a field cannot be read)` : '';
      lines.push({
        ok: true,
        name: `schedule ${schedule.name}`,
        detail: `${plural(value.tasks.length, 'task')}${unreadable} for ${watched(schedule)} (${callMs} ms)`,
      });
    } catch (error) {
      lines.push({ ok: false, name: `schedule ${schedule.name}`, detail: `${message(error)}${inMaintenance}` });
    }
  }
  return lines;
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
  const associates = config.schedules.reduce((n, s) => n + (s.associates === 'all' ? 0 : s.associates.length), 0);
  const all = config.schedules.some((s) => s.associates === 'all') ? ' listed (and one schedule for all others)' : '';
  const lines: CheckLine[] = [
    {
      ok: true,
      name: 'config',
      detail: `${path}: ${plural(config.schedules.length, 'schedule')}, ${plural(associates, 'associate')}${all}`,
    },
  ];
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

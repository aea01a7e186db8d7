/** Secrets of the configuration: masked in the config as it is logged or printed, and registered for scrubbing. */
import { formatDuration } from '../config/duration.ts';
import type { Config } from '../config/types.ts';
import { isRsaKeyValueXml, rsaKeyValueFields } from '../config/system-user.ts';
import { MASK, secrets, type SecretSet } from './secrets.ts';

/** Schemes whose URL userinfo is a credential even without a ':' (redis://SECRET@host sends SECRET as the password). */
const USER_IS_SECRET = new Set(['redis:', 'rediss:']);

/**
 * The URL with its credentials replaced by ***: the password, and for redis:// a lone user part too.
 * The whole value is hidden if it does not parse but looks like it carries userinfo.
 */
export function redactUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return text.includes('@') ? MASK : text;
  }
  if (url.password === '' && !(url.username !== '' && USER_IS_SECRET.has(url.protocol))) return text;
  if (url.password === '') {
    url.username = 'redacted-user';
    return url.toString().replace('redacted-user@', `${MASK}@`);
  }
  url.password = 'redacted';
  return url.toString().replace(':redacted@', `:${MASK}@`);
}

/** Every secret value the config holds, decoded as it is used and as written. */
export function configSecrets(config: Config): string[] {
  const values: (string | undefined)[] = [
    config.superoffice.password,
    config.superoffice.ticket,
    config.superoffice.applicationToken,
    config.mail.oauth2?.clientSecret,
    config.mail.oauth2?.refreshToken,
    config.redis.sentinel?.password,
    config.redis.sentinel?.sentinelPassword,
    config.redis.cluster?.password,
    config.http.adminToken,
  ];
  const systemUser = config.superoffice.systemUser;
  if (systemUser) values.push(systemUser.token, ...privateKeyParts(systemUser.privateKey));
  for (const text of [config.superoffice.url, config.redis.url ?? '', config.mail.smtp]) {
    try {
      const url = new URL(text);
      if (url.password) values.push(url.password, safeDecode(url.password));
      if (!url.password && url.username && USER_IS_SECRET.has(url.protocol)) values.push(url.username, safeDecode(url.username));
    } catch {
      // Not a URL: nothing to take apart (config validation reports it).
    }
  }
  return values.filter((value): value is string => typeof value === 'string' && value !== '');
}

/**
 * The PEM as a whole, its base64 body in one piece, and each body line (for RSAKeyValue XML: each value):
 * a fragment of a key (one line of it in a stack trace or an echoed request) is scrubbed too.
 */
export function privateKeyParts(pem: string): string[] {
  if (isRsaKeyValueXml(pem)) return [pem, ...Object.values(rsaKeyValueFields(pem))];
  const body = pem
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('-----') && !/^[A-Za-z-]+:/.test(line));
  return [pem, body.join(''), ...body];
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Registers the config's secrets with the process-wide set (or `set`), so every exit scrubs them. */
export function registerConfigSecrets(config: Config, set: SecretSet = secrets): void {
  for (const value of configSecrets(config)) set.add(value);
}

/** The Redis section as it may be shown: passwords masked, the CA named by its file, not its certificates. */
function redactedRedis(redis: Config['redis']): unknown {
  const mask = <T extends { password?: string; sentinelPassword?: string }>(section: T): T => ({
    ...section,
    ...(section.password !== undefined ? { password: MASK } : {}),
    ...(section.sentinelPassword !== undefined ? { sentinelPassword: MASK } : {}),
  });
  return {
    ...redis,
    ...(redis.url !== undefined ? { url: redactUrl(redis.url) } : {}),
    ...(redis.sentinel ? { sentinel: mask(redis.sentinel) } : {}),
    ...(redis.cluster ? { cluster: mask(redis.cluster) } : {}),
    ...(redis.tls ? { tls: { ca: redis.tls.caFile } } : {}),
  };
}

/** Durations as the config file writes them ("15m"), not the milliseconds the program uses. */
const asWritten = (ms: number | undefined) => (ms === undefined ? undefined : formatDuration(ms));

/** The config as it may be logged or printed by `check`: secrets replaced by "***", durations as written. */
export function redactedConfig(config: Config): unknown {
  const superoffice: Record<string, unknown> = { ...config.superoffice, timeout: asWritten(config.superoffice.timeout) };
  for (const key of ['password', 'ticket', 'applicationToken'] as const) {
    if (superoffice[key] !== undefined) superoffice[key] = MASK;
  }
  const systemUser = superoffice.systemUser as Config['superoffice']['systemUser'];
  const shownSystemUser = systemUser
    ? {
        systemUser: {
          token: MASK,
          privateKey: MASK,
          ...(systemUser.privateKeyFile !== undefined ? { privateKeyFile: systemUser.privateKeyFile } : {}),
          loginUrl: redactUrl(systemUser.loginUrl),
          ...(systemUser.jwtCertificate ? { jwtCertificate: systemUser.jwtCertificate.file } : {}),
        },
      }
    : {};
  const { rules, mail, http, maintenance } = config;
  return {
    ...config,
    superoffice: { ...superoffice, ...shownSystemUser, url: redactUrl(config.superoffice.url) },
    redis: redactedRedis(config.redis),
    schedules: config.schedules.map((schedule) => ({
      ...schedule,
      timing: 'every' in schedule.timing ? { every: asWritten(schedule.timing.every) } : { ...schedule.timing },
    })),
    rules: {
      ...rules,
      stallAfter: asWritten(rules.stallAfter),
      queuedTimeout: asWritten(rules.queuedTimeout),
      firstSeenWindow: asWritten(rules.firstSeenWindow),
      repeatInterval: asWritten(rules.repeatInterval),
      tasks: rules.tasks.map((task) => ({ ...task, stallAfter: asWritten(task.stallAfter), queuedTimeout: asWritten(task.queuedTimeout) })),
    },
    mail: {
      ...mail,
      smtp: redactUrl(mail.smtp),
      retryDelay: asWritten(mail.retryDelay),
      retryFor: asWritten(mail.retryFor),
      ...(mail.oauth2
        ? { oauth2: { ...mail.oauth2, clientSecret: MASK, ...(mail.oauth2.refreshToken !== undefined ? { refreshToken: MASK } : {}) } }
        : {}),
    },
    http: { ...http, ...(http.adminToken !== undefined ? { adminToken: MASK } : {}) },
    ...(maintenance ? { maintenance: maintenance.map((window) => ({ ...window, duration: asWritten(window.duration) })) } : {}),
  };
}

/** Config checks that relate several fields (credentials, every vs cron, unique names, ...). */
import { issue, type PathIssue } from './issues.ts';
import { quoted } from './quoted.ts';
import { contextIdentifierOf } from './tenant.ts';

/**
 * Checks that relate several fields. They look at the interpolated document directly (not at zod's
 * output) so they are reported together with any field errors elsewhere in the file.
 */
export function checkRelations(document: unknown): PathIssue[] {
  if (!isMapping(document)) return [];
  return [
    ...checkCredentials(document.superoffice),
    ...checkSchedules(document.schedules),
    ...checkMail(document.mail, document.schedules),
    ...checkRedis(document.redis),
    ...checkMaintenance(document.maintenance, document.schedules),
  ];
}

type Mapping = Record<string, unknown>;

function isMapping(value: unknown): value is Mapping {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function present(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value === 'string') return value.trim() !== '';
  if (Array.isArray(value)) return value.length > 0;
  return true;
}

/** A mapping counts as given when any of its values is (all-blank `${VAR:-}` values leave it out). */
function presentMapping(value: unknown): value is Mapping {
  return isMapping(value) && Object.values(value).some(present);
}

function checkCredentials(superoffice: unknown): PathIssue[] {
  if (!isMapping(superoffice)) return [];
  const ticket = present(superoffice.ticket);
  const username = present(superoffice.username);
  const password = present(superoffice.password);
  const systemUser = presentMapping(superoffice.systemUser) ? superoffice.systemUser : null;
  const issues: PathIssue[] = [];
  if (username && !password) issues.push(issue(['superoffice', 'password'], 'is required with username'));
  if (password && !username) issues.push(issue(['superoffice', 'username'], 'is required with password'));
  const given = [
    ...(ticket ? ['superoffice.ticket'] : []),
    ...(username || password ? ['superoffice.username/password'] : []),
    ...(systemUser ? ['superoffice.systemUser'] : []),
  ];
  if (given.length === 0) {
    issues.push(issue(['superoffice'], 'needs either ticket, or username and password (onsite), or systemUser (SuperOffice Online)'));
  } else if (given.length > 1) {
    issues.push(issue(['superoffice'], `give exactly one of ticket, username+password, systemUser (found ${given.join(' and ')})`));
  }
  if (systemUser) issues.push(...checkSystemUser(superoffice, systemUser));
  if (present(superoffice.tenantStatusUrl) && !hasContextIdentifier(superoffice.url)) {
    issues.push(
      issue(
        ['superoffice', 'url'],
        "must end with the tenant's ContextIdentifier (e.g. https://online.superoffice.com/Cust12345) when tenantStatusUrl is set",
      ),
    );
  }
  return issues;
}

function checkSystemUser(superoffice: Mapping, systemUser: Mapping): PathIssue[] {
  const issues: PathIssue[] = [];
  const inline = present(systemUser.privateKey);
  const file = present(systemUser.privateKeyFile);
  if (inline && file) {
    issues.push(issue(['superoffice', 'systemUser', 'privateKeyFile'], 'give either privateKey (PEM text) or privateKeyFile, not both'));
  } else if (!inline && !file) {
    issues.push(
      issue(
        ['superoffice', 'systemUser'],
        "needs privateKey (the app's RSA private key as PEM text, e.g. ${SO_PRIVATE_KEY}) or privateKeyFile",
      ),
    );
  }
  if (!present(superoffice.applicationToken)) {
    issues.push(issue(['superoffice', 'applicationToken'], "is required with systemUser (the app's client secret)"));
  }
  if (!hasContextIdentifier(superoffice.url)) {
    issues.push(
      issue(
        ['superoffice', 'url'],
        "must end with the tenant's ContextIdentifier (e.g. https://online.superoffice.com/Cust12345) when systemUser is set",
      ),
    );
  }
  return issues;
}

/** Only judged for URLs that parse; a URL that does not is reported by the schema. */
function hasContextIdentifier(url: unknown): boolean {
  if (typeof url !== 'string') return true;
  try {
    new URL(url.trim());
  } catch {
    return true;
  }
  return contextIdentifierOf(url.trim()) !== null;
}

function asAssociateId(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && /^\s*\d+\s*$/.test(value)) return Number(value);
  return undefined;
}

function checkSchedules(schedules: unknown): PathIssue[] {
  if (!Array.isArray(schedules)) return [];
  const issues: PathIssue[] = [];
  const nameAt = new Map<string, number>();
  const associateAt = new Map<number, number>();
  const label = (index: number): string => {
    const schedule: unknown = schedules[index];
    const name = isMapping(schedule) ? schedule.name : undefined;
    return typeof name === 'string' ? `${quoted(name)} (schedules[${index}])` : `schedules[${index}]`;
  };

  schedules.forEach((schedule: unknown, index) => {
    if (!isMapping(schedule)) return;
    const hasEvery = schedule.every !== undefined;
    const hasCron = schedule.cron !== undefined;
    if (hasEvery && hasCron) {
      issues.push(issue(['schedules', index], 'give either every or cron, not both'));
    } else if (!hasEvery && !hasCron) {
      issues.push(issue(['schedules', index], 'needs every (e.g. 60s) or cron (e.g. "*/5 * * * *")'));
    }
    if (schedule.tz !== undefined && !hasCron) {
      issues.push(issue(['schedules', index, 'tz'], 'applies only to cron schedules'));
    }

    const name = schedule.name;
    if (typeof name === 'string') {
      const first = nameAt.get(name);
      if (first === undefined) nameAt.set(name, index);
      else
        issues.push(
          issue(['schedules', index, 'name'], `${quoted(name)} is already the name of schedules[${first}]; names must be unique`),
        );
    }

    const associates = schedule.associates;
    if (!Array.isArray(associates)) return;
    if (schedule.includeSystemTasks !== undefined) {
      issues.push(
        issue(
          ['schedules', index, 'includeSystemTasks'],
          'applies only to associates: all (to watch system tasks with a list, list associate 0)',
        ),
      );
    }
    associates.forEach((value: unknown, position) => {
      const id = asAssociateId(value);
      if (id === undefined) return;
      const owner = associateAt.get(id);
      if (owner === undefined) associateAt.set(id, index);
      else if (owner === index) {
        issues.push(issue(['schedules', index, 'associates', position], `associate ${id} is listed twice`));
      } else {
        issues.push(
          issue(
            ['schedules', index, 'associates', position],
            `associate ${id} is in both schedule ${label(owner)} and schedule ${label(index)}; an associate may belong to one schedule only`,
          ),
        );
      }
    });
  });
  issues.push(...checkAllSchedules(schedules, associateAt, label));
  return issues;
}

function isAll(value: unknown): boolean {
  return typeof value === 'string' && value.trim().toLowerCase() === 'all';
}

/**
 * At most one schedule watches `all` (each task is watched by exactly one schedule); its system tasks
 * (associate 0) cannot also belong to a schedule that lists associate 0.
 */
function checkAllSchedules(schedules: unknown[], associateAt: Map<number, number>, label: (index: number) => string): PathIssue[] {
  const issues: PathIssue[] = [];
  let first: number | undefined;
  schedules.forEach((schedule: unknown, index) => {
    if (!isMapping(schedule) || !isAll(schedule.associates)) return;
    if (first !== undefined) {
      issues.push(
        issue(
          ['schedules', index, 'associates'],
          `schedule ${label(first)} already watches all associates; at most one schedule may say "all" (each task is watched by one schedule)`,
        ),
      );
      return;
    }
    first = index;
    const owner = associateAt.get(0);
    if (enabledFlag(schedule.includeSystemTasks) && present(schedule.includeSystemTasks) && owner !== undefined) {
      issues.push(
        issue(
          ['schedules', index, 'includeSystemTasks'],
          `system tasks (associate 0) are already watched by schedule ${label(owner)}, which lists associate 0; remove 0 there or drop includeSystemTasks`,
        ),
      );
    }
  });
  return issues;
}

function enabledFlag(value: unknown): boolean {
  if (value === false) return false;
  return !(typeof value === 'string' && value.trim().toLowerCase() === 'false');
}

function checkMail(mail: unknown, schedules: unknown): PathIssue[] {
  const section = isMapping(mail) ? mail : {};
  if (!enabledFlag(section.enabled)) return [];
  const issues: PathIssue[] = [];
  const why = 'while mail.enabled is true';
  if (!present(section.smtp)) issues.push(issue(['mail', 'smtp'], `is required ${why}`));
  if (!present(section.from)) issues.push(issue(['mail', 'from'], `is required ${why}`));
  const everyScheduleHasMailTo =
    Array.isArray(schedules) &&
    schedules.length > 0 &&
    schedules.every((schedule: unknown) => isMapping(schedule) && present(schedule.mailTo));
  if (!present(section.to) && !everyScheduleHasMailTo) {
    issues.push(issue(['mail', 'to'], `is required ${why} (unless every schedule has mailTo)`));
  }
  return issues;
}

const REDIS_TOPOLOGIES = ['url', 'sentinel', 'cluster'] as const;

/** redis.url, redis.sentinel and redis.cluster exclude each other; redis.tls.ca needs a TLS connection to apply to. */
function checkRedis(redis: unknown): PathIssue[] {
  if (!isMapping(redis)) return [];
  const given = REDIS_TOPOLOGIES.filter((key) => present(redis[key]));
  if (given.length > 1) {
    return [
      issue(
        ['redis'],
        `give only one of ${given.map((key) => `redis.${key}`).join(', ')}: one Redis node (url), a Sentinel group (sentinel) or a Cluster (cluster)`,
      ),
    ];
  }
  const tls = redis.tls;
  if (!isMapping(tls) || !present(tls.ca)) return [];
  const topology = given[0] ?? 'url';
  const section = redis[topology];
  const usesTls =
    topology === 'url'
      ? typeof section === 'string' && /^\s*rediss:/i.test(section)
      : isMapping(section) && enabledFlag(section.tls) && section.tls !== undefined;
  if (usesTls) return [];
  const how = topology === 'url' ? 'use a rediss:// URL in redis.url' : `set redis.${topology}.tls: true`;
  return [issue(['redis', 'tls', 'ca'], `applies to TLS connections only: ${how}, or remove redis.tls.ca`)];
}

/** Maintenance window names are unique (they name the window in logs, mail history and the API); match.schedule names a schedule. */
function checkMaintenance(maintenance: unknown, schedules: unknown): PathIssue[] {
  if (!Array.isArray(maintenance)) return [];
  const scheduleNames = Array.isArray(schedules)
    ? schedules.flatMap((schedule: unknown) => (isMapping(schedule) && typeof schedule.name === 'string' ? [schedule.name] : []))
    : [];
  const issues: PathIssue[] = [];
  const nameAt = new Map<string, number>();
  maintenance.forEach((window: unknown, index) => {
    if (!isMapping(window)) return;
    const name = window.name;
    if (typeof name === 'string' && name.trim() !== '') {
      const first = nameAt.get(name.trim());
      if (first === undefined) nameAt.set(name.trim(), index);
      else
        issues.push(
          issue(['maintenance', index, 'name'], `"${name.trim()}" is already the name of maintenance[${first}]; names must be unique`),
        );
    }
    const match = window.match;
    const schedule = isMapping(match) ? match.schedule : undefined;
    if (typeof schedule === 'string' && schedule.trim() !== '' && !scheduleNames.includes(schedule.trim())) {
      issues.push(
        issue(
          ['maintenance', index, 'match', 'schedule'],
          `no schedule named "${schedule.trim()}" (configured: ${scheduleNames.join(', ') || 'none'})`,
        ),
      );
    }
  });
  return issues;
}

/** Reads, interpolates and validates the config file into a Config; every problem with its key and line. */
import { closeSync, openSync, readSync } from 'node:fs';
import { resolve } from 'node:path';
import { isAlias, isMap, isNode, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document } from 'yaml';
import type { z } from 'zod';
import { normalizeMatchers } from '../core/matchers.ts';
import { registerConfigSecrets } from '../redact/config.ts';
import { interpolateEnv } from './interpolate.ts';
import { closestKey, formatPath, issue, type ConfigIssue, type PathIssue } from './issues.ts';
import { checkMailServer } from './mail-checks.ts';
import { showValues, type Substitution } from './quoted.ts';
import { checkRelations } from './relations.ts';
import { defaultLoginUrl } from './tenant.ts';
import { LOG_LEVELS } from '../log-levels.ts';
import { DEFAULT_REDIS_URL, errorMap, fileSchema, KNOWN_KEYS, type ParsedFile } from './schema.ts';
import type { Config, RedisClusterConfig, RedisConfig, RedisSentinelConfig, ScheduleConfig } from './types.ts';

export type { ConfigIssue } from './issues.ts';

export const DEFAULT_CONFIG_PATH = 'config/batchwatch.yaml';
/** A config file is a few kilobytes; reading stops here (a wrong file, /dev/zero or a pipe that never ends). */
export const MAX_CONFIG_BYTES = 1024 * 1024;
/**
 * Budget of the YAML reader for aliases of values that themselves contain aliases (uses x aliases inside):
 * plain anchors may be reused freely; an "alias bomb" (each level repeating the one before) stops at once.
 */
export const MAX_ALIAS_COUNT = 100;

/** A config that cannot be used. The message lists every issue with its key path; never a secret value. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly issues: ConfigIssue[];
  readonly source: string;

  constructor(source: string, issues: ConfigIssue[]) {
    const lines = issues.map((it) => {
      const where = it.path === '' ? '' : `${it.path}: `;
      const line = it.line === undefined ? '' : ` (line ${it.line})`;
      return `  ${where}${it.message}${line}`;
    });
    const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
    super(`${source}: invalid config, ${count}:\n${lines.join('\n')}`);
    this.issues = issues;
    this.source = source;
  }
}

/** --config, else $BATCHWATCH_CONFIG, else config/batchwatch.yaml; relative paths are against the cwd. */
export function resolveConfigPath(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  const chosen = flag !== undefined && flag !== '' ? flag : env.BATCHWATCH_CONFIG || DEFAULT_CONFIG_PATH;
  return resolve(chosen);
}

/** Reads and validates the config file, and registers its secrets so that no output of this process shows them. */
export function loadConfig(path: string, env: NodeJS.ProcessEnv = process.env): Config {
  let text: string;
  try {
    text = readBounded(path, MAX_CONFIG_BYTES);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const code = error instanceof Error && 'code' in error ? String(error.code) : '';
    const reason =
      code === 'ENOENT'
        ? 'file not found (pass --config FILE or set BATCHWATCH_CONFIG; config/batchwatch.example.yaml documents every key)'
        : code === 'EISDIR'
          ? 'is a directory, not a file'
          : `cannot be read (${code || (error instanceof Error ? error.message : String(error))})`;
    throw new ConfigError(path, [{ path: '', message: reason }]);
  }
  const config = parseConfig(text, env, path);
  registerConfigSecrets(config);
  return config;
}

/** The file's text, read in pieces and never more than `limit` bytes (throws a ConfigError past it). */
function readBounded(path: string, limit: number): string {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(limit + 1);
    let length = 0;
    for (let read = -1; read !== 0 && length <= limit; length += read) {
      read = readSync(fd, buffer, length, buffer.length - length, null);
    }
    if (length > limit) {
      throw new ConfigError(path, [
        { path: '', message: `is larger than ${limit / 1024} KiB; a config file is a few kilobytes (wrong file?)` },
      ]);
    }
    return buffer.toString('utf8', 0, length);
  } finally {
    closeSync(fd);
  }
}

export function parseConfig(yamlText: string, env: NodeJS.ProcessEnv = process.env, source = '<config>'): Config {
  const lineCounter = new LineCounter();
  let doc: Document;
  try {
    doc = parseDocument(yamlText, { lineCounter, prettyErrors: true });
  } catch (error) {
    throw new ConfigError(source, [{ path: '', message: yamlFailure(error) }]);
  }
  if (doc.errors.length > 0) {
    throw new ConfigError(
      source,
      doc.errors.map((error) => {
        const what = error.message.split(' at line ')[0] ?? error.message;
        const position = error.linePos?.[0];
        const where = position ? ` at line ${position.line}, column ${position.col}` : '';
        return { path: '', message: `YAML syntax error${where}: ${what}` };
      }),
    );
  }

  const raw = documentValue(doc, lineCounter, source);
  if (raw === null || raw === undefined) throw new ConfigError(source, [{ path: '', message: 'the config file is empty' }]);
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(source, [{ path: '', message: 'expected a mapping of sections (superoffice:, schedules:, ...)' }]);
  }

  const interpolated = interpolateEnv(raw, env);
  let parsed: ReturnType<typeof fileSchema.safeParse>;
  try {
    parsed = fileSchema.safeParse(interpolated.value, { reportInput: true, error: errorMap });
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    throw new ConfigError(source, [{ path: '', message: yamlFailure(error) }]);
  }
  const checked: PathIssue[] = [
    ...(parsed.success ? [] : parsed.error.issues.flatMap(fromZod)),
    ...checkRelations(interpolated.value),
    ...checkMailServer(interpolated.value),
  ];
  const level = logLevelFromEnv(env);
  if (level.issue) checked.push(level.issue);

  // A value that could not be interpolated is reported once, not again as missing or malformed.
  const broken = interpolated.issues.map((it) => formatPath(it.at));
  const covered = (path: string) => broken.some((b) => path === b || path.startsWith(`${b}.`) || path.startsWith(`${b}[`));
  const all = [...interpolated.issues, ...checked.filter((it) => !covered(formatPath(it.at)))];

  if (all.length > 0 || !parsed.success) {
    throw new ConfigError(source, withValuesShown(placeIssues(all, doc, lineCounter), interpolated.substitutions));
  }
  return toConfig(parsed.data, level.value);
}

/** A parser failure that is not a syntax error: nesting deeper than the stack (the file is not a config). */
function yamlFailure(error: unknown): string {
  if (error instanceof RangeError) return 'the YAML nests too deeply to be a config file (wrong file?)';
  return `the YAML cannot be read: ${error instanceof Error ? error.message : String(error)}`;
}

/**
 * The document as plain values. Aliases are expanded with a budget (MAX_ALIAS_COUNT): an alias bomb, or
 * an alias whose anchor is missing, is a config error naming the key where the alias is used.
 */
function documentValue(doc: Document, lineCounter: LineCounter, source: string): unknown {
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    if (!(error instanceof ReferenceError)) throw new ConfigError(source, [{ path: '', message: yamlFailure(error) }]);
    const uses = aliasUses(doc, lineCounter);
    const missing = uses.find((use) => use.size === undefined);
    const largest = uses.reduce<AliasUse | undefined>((best, use) => ((use.size ?? 0) > (best?.size ?? 0) ? use : best), undefined);
    const culprit = missing ?? largest;
    if (!culprit) throw new ConfigError(source, [{ path: '', message: `YAML aliases cannot be expanded: ${error.message}` }]);
    const message =
      culprit.size === undefined
        ? `YAML alias *${culprit.name} has no anchor &${culprit.name} before it`
        : `YAML alias *${culprit.name} expands to ${culprit.size > 1e6 ? 'over a million' : culprit.size} values through aliases inside aliases, more than the YAML reader expands (an "alias bomb"); write the values out`;
    throw new ConfigError(source, [{ path: culprit.path, message, ...(culprit.line !== undefined ? { line: culprit.line } : {}) }]);
  }
}

interface AliasUse {
  path: string;
  name: string;
  line?: number;
  /** Values the alias stands for once expanded (aliases inside counted too); undefined: no anchor before it. */
  size?: number;
}

/** Every alias in the document with the key path it stands at and what it expands to (counted, never expanded). */
function aliasUses(doc: Document, lineCounter: LineCounter): AliasUse[] {
  const anchored = new Map<string, unknown>();
  const sizes = new Map<unknown, number>();
  // Counted in document order, as YAML resolves aliases: an anchor defined later is not seen yet.
  const sizeOf = (node: unknown, depth = 0): number => {
    if (depth > 1000) return Infinity;
    const known = sizes.get(node);
    if (known !== undefined) return known;
    let size = 1;
    if (isAlias(node)) size = anchored.has(node.source) ? sizeOf(anchored.get(node.source), depth + 1) : 0;
    else if (isMap(node)) for (const pair of node.items) size += sizeOf(pair.key, depth + 1) + sizeOf(pair.value, depth + 1);
    else if (isSeq(node)) for (const item of node.items) size += sizeOf(item, depth + 1);
    sizes.set(node, Math.min(size, Number.MAX_SAFE_INTEGER));
    return Math.min(size, Number.MAX_SAFE_INTEGER);
  };
  const uses: AliasUse[] = [];
  visit(doc, {
    Node(_, node) {
      if (!isAlias(node) && node.anchor) anchored.set(node.anchor, node);
    },
    Alias(key, node, ancestors) {
      const at: (string | number)[] = [];
      ancestors.forEach((ancestor, index) => {
        const next = index + 1 < ancestors.length ? ancestors[index + 1] : undefined;
        if (isPair(ancestor) && isScalar(ancestor.key)) at.push(String(ancestor.key.value));
        if (isSeq(ancestor)) at.push(next === undefined ? Number(key) : ancestor.items.indexOf(next as never));
      });
      const offset = node.range?.[0];
      uses.push({
        path: formatPath(at),
        name: node.source,
        ...(offset !== undefined ? { line: lineCounter.linePos(offset).line } : {}),
        ...(anchored.has(node.source) ? { size: sizeOf(anchored.get(node.source)) } : {}),
      });
    },
  });
  return uses;
}

/** Values quoted in the messages shown by the one rule of quoted.ts (never one from the environment); duplicates dropped. */
function withValuesShown(issues: ConfigIssue[], substitutions: readonly Substitution[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues.flatMap((it) => {
    const shown = { ...it, message: showValues(it.path, it.message, substitutions) };
    const key = `${shown.path}\u0000${shown.message}`;
    if (seen.has(key)) return [];
    seen.add(key);
    return [shown];
  });
}

function fromZod(zodIssue: z.core.$ZodIssue): PathIssue[] {
  const at = zodIssue.path.filter((p): p is string | number => typeof p !== 'symbol');
  if (zodIssue.code !== 'unrecognized_keys') return [issue(at, zodIssue.message)];
  const known = KNOWN_KEYS[formatPath(at.map((p) => (typeof p === 'number' ? '[]' : p))).replace(/\.\[\]/g, '[]')] ?? [];
  return zodIssue.keys.map((key) => {
    const suggestion = closestKey(key, known);
    const hint = suggestion ? `did you mean "${suggestion}"?` : known.length > 0 ? `known keys here: ${known.join(', ')}` : '';
    return issue([...at, key], `unknown key${hint ? ` (${hint})` : ''}`);
  });
}

function logLevelFromEnv(env: NodeJS.ProcessEnv): { value?: Config['log']['level']; issue?: PathIssue } {
  const wanted = env.BATCHWATCH_LOG_LEVEL?.trim().toLowerCase();
  if (!wanted) return {};
  const level = LOG_LEVELS.find((it) => it === wanted);
  if (level) return { value: level };
  return {
    issue: issue(['log', 'level'], `BATCHWATCH_LOG_LEVEL="${wanted}" is not one of: ${LOG_LEVELS.join(', ')}`),
  };
}

/** Adds the line of each key (or of its closest existing parent) and sorts issues in file order. */
function placeIssues(issues: PathIssue[], doc: Document, lineCounter: LineCounter): ConfigIssue[] {
  const placed = issues.map((it, order) => {
    let line: number | undefined;
    for (let depth = it.at.length; depth > 0 && line === undefined; depth--) {
      const offset = keyOffset(doc, it.at.slice(0, depth));
      if (offset !== undefined) line = lineCounter.linePos(offset).line;
    }
    const out: ConfigIssue = { path: formatPath(it.at), message: it.message };
    if (line !== undefined) out.line = line;
    return { out, order, line: line ?? 0 };
  });
  placed.sort((a, b) => a.line - b.line || a.order - b.order);
  return placed.map((it) => it.out);
}

/** Where the key (or list item) at `at` starts in the text. */
function keyOffset(doc: Document, at: (string | number)[]): number | undefined {
  const parent: unknown = at.length === 1 ? doc.contents : doc.getIn(at.slice(0, -1), true);
  const last = at[at.length - 1];
  if (isMap(parent)) {
    const pair = parent.items.find((item) => isScalar(item.key) && String(item.key.value) === String(last));
    const key: unknown = pair?.key;
    return isScalar(key) ? key.range?.[0] : undefined;
  }
  if (isSeq(parent) && typeof last === 'number') {
    const item: unknown = parent.items[last];
    return isNode(item) ? item.range?.[0] : undefined;
  }
  return undefined;
}

/** One of url / sentinel / cluster (relations.ts reports a config giving more than one); optional keys only when set. */
function toRedisConfig(redis: ParsedFile['redis']): RedisConfig {
  const credentials = (from: { username?: string | undefined; password?: string | undefined }) => ({
    ...(from.username !== undefined ? { username: from.username } : {}),
    ...(from.password !== undefined ? { password: from.password } : {}),
  });
  const tls = redis.tls ? { tls: redis.tls.ca } : {};
  if (redis.sentinel) {
    const { name, nodes, sentinelPassword, tls: useTls } = redis.sentinel;
    const sentinel: RedisSentinelConfig = {
      name,
      nodes,
      ...credentials(redis.sentinel),
      ...(sentinelPassword !== undefined ? { sentinelPassword } : {}),
      tls: useTls,
    };
    return { sentinel, prefix: redis.prefix, ...tls };
  }
  if (redis.cluster) {
    const cluster: RedisClusterConfig = { nodes: redis.cluster.nodes, ...credentials(redis.cluster), tls: redis.cluster.tls };
    return { cluster, prefix: redis.prefix, ...tls };
  }
  return { url: redis.url ?? DEFAULT_REDIS_URL, prefix: redis.prefix, ...tls };
}

function toConfig(file: ParsedFile, logLevel: Config['log']['level'] | undefined): Config {
  const so = file.superoffice;
  const optional = (value: string | undefined) => (value === undefined || value === '' ? undefined : value);
  const superoffice: Config['superoffice'] = {
    url: so.url,
    timeout: so.timeout,
    associatesPerRequest: so.associatesPerRequest,
    maxConcurrentRequests: so.maxConcurrentRequests,
    timeZone: so.timeZone,
    maxResponseBytes: so.maxResponseBytes,
  };
  if (so.tls?.ca !== undefined) superoffice.tls = { ca: so.tls.ca };
  for (const key of ['applicationToken', 'ticket', 'username', 'password', 'tenantStatusUrl'] as const) {
    const value = optional(so[key]);
    if (value !== undefined) superoffice[key] = value;
  }
  if (so.systemUser) {
    const { loginUrl, ...material } = so.systemUser;
    superoffice.systemUser = { ...material, loginUrl: loginUrl ?? defaultLoginUrl(so.url) };
  }

  const listed = [...new Set(file.schedules.flatMap((s) => (s.associates === 'all' ? [] : s.associates)))].sort((a, b) => a - b);
  const schedules = file.schedules.map((s): ScheduleConfig => {
    const timing: ScheduleConfig['timing'] =
      s.every !== undefined
        ? { every: s.every }
        : s.tz !== undefined
          ? { cron: (s.cron ?? '').trim(), tz: s.tz }
          : { cron: (s.cron ?? '').trim() };
    const schedule: ScheduleConfig =
      s.associates === 'all'
        ? { name: s.name, associates: 'all', includeSystemTasks: s.includeSystemTasks ?? false, listedElsewhere: listed, timing }
        : { name: s.name, associates: s.associates, timing };
    if (s.mailTo !== undefined && s.mailTo.length > 0) schedule.mailTo = s.mailTo;
    return schedule;
  });

  const rules: Config['rules'] = {
    stallAfter: file.rules.stallAfter,
    queuedTimeout: file.rules.queuedTimeout,
    firstSeenWindow: file.rules.firstSeenWindow,
    unreachableAfter: file.rules.unreachableAfter,
    repeatInterval: file.rules.repeatInterval,
    sendResolved: file.rules.sendResolved,
    tasks: file.rules.tasks.map((t) => {
      const rule: Config['rules']['tasks'][number] = { name: t.name, ignore: t.ignore };
      if (t.stallAfter !== undefined) rule.stallAfter = t.stallAfter;
      if (t.queuedTimeout !== undefined) rule.queuedTimeout = t.queuedTimeout;
      return rule;
    }),
  };

  return {
    superoffice,
    redis: toRedisConfig(file.redis),
    schedules,
    rules,
    mail: toMailConfig(file.mail),
    http: {
      host: file.http.host,
      port: file.http.port,
      ...(file.http.adminToken !== undefined ? { adminToken: file.http.adminToken } : {}),
    },
    metrics: { maxExportedTasks: file.metrics.maxExportedTasks },
    log: { level: logLevel ?? file.log.level },
    ...(file.maintenance.length > 0
      ? {
          maintenance: file.maintenance.map((window) => ({
            name: window.name,
            cron: window.cron.trim(),
            tz: window.tz,
            duration: window.duration,
            match: normalizeMatchers(window.match),
          })),
        }
      : {}),
  };
}

function toMailConfig(mail: ParsedFile['mail']): Config['mail'] {
  const out: Config['mail'] = {
    enabled: mail.enabled,
    smtp: mail.smtp ?? '',
    from: mail.from ?? '',
    to: mail.to ?? [],
    retryDelay: mail.retryDelay,
    retryFor: mail.retryFor,
  };
  if (mail.oauth2) {
    const { user, tokenUrl, clientId, clientSecret, scope, refreshToken } = mail.oauth2;
    out.oauth2 = {
      user,
      tokenUrl: tokenUrl.trim(),
      clientId,
      clientSecret,
      ...(scope ? { scope } : {}),
      ...(refreshToken ? { refreshToken } : {}),
    };
  }
  if (mail.tls) out.tls = { ca: mail.tls.ca };
  return out;
}

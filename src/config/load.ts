import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { isMap, isNode, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { registerConfigSecrets } from '../redact/config.ts';
import { interpolateEnv } from './interpolate.ts';
import { closestKey, formatPath, issue, type ConfigIssue, type PathIssue } from './issues.ts';
import { checkRelations } from './relations.ts';
import { errorMap, fileSchema, KNOWN_KEYS, LOG_LEVELS, type ParsedFile } from './schema.ts';
import type { Config, ScheduleConfig } from './types.ts';

export type { ConfigIssue } from './issues.ts';

export const DEFAULT_CONFIG_PATH = 'config/batchwatch.yaml';

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
  const chosen = flag !== undefined && flag !== '' ? flag : env['BATCHWATCH_CONFIG'] || DEFAULT_CONFIG_PATH;
  return resolve(chosen);
}

/** Reads and validates the config file, and registers its secrets so that no output of this process shows them. */
export function loadConfig(path: string, env: NodeJS.ProcessEnv = process.env): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
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

export function parseConfig(yamlText: string, env: NodeJS.ProcessEnv = process.env, source = '<config>'): Config {
  const lineCounter = new LineCounter();
  const doc = parseDocument(yamlText, { lineCounter, prettyErrors: true });
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

  const raw: unknown = doc.toJS();
  if (raw === null || raw === undefined) throw new ConfigError(source, [{ path: '', message: 'the config file is empty' }]);
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(source, [{ path: '', message: 'expected a mapping of sections (superoffice:, schedules:, ...)' }]);
  }

  const interpolated = interpolateEnv(raw, env);
  const parsed = fileSchema.safeParse(interpolated.value, { reportInput: true, error: errorMap });
  const checked: PathIssue[] = [
    ...(parsed.success ? [] : parsed.error.issues.flatMap(fromZod)),
    ...checkRelations(interpolated.value),
  ];
  const level = logLevelFromEnv(env);
  if (level.issue) checked.push(level.issue);

  // A value that could not be interpolated is reported once, not again as missing or malformed.
  const broken = interpolated.issues.map((it) => formatPath(it.at));
  const covered = (path: string) =>
    broken.some((b) => path === b || path.startsWith(`${b}.`) || path.startsWith(`${b}[`));
  const all = [...interpolated.issues, ...checked.filter((it) => !covered(formatPath(it.at)))];

  if (all.length > 0 || !parsed.success) {
    throw new ConfigError(source, placeIssues(all, doc, lineCounter));
  }
  return toConfig(parsed.data, level.value);
}

function fromZod(zodIssue: z.core.$ZodIssue): PathIssue[] {
  const at = zodIssue.path.filter((p): p is string | number => typeof p !== 'symbol');
  if (zodIssue.code !== 'unrecognized_keys') return [issue(at, zodIssue.message)];
  const known = KNOWN_KEYS[formatPath(at.map((p) => (typeof p === 'number' ? '[]' : p))).replace(/\.\[\]/g, '[]')] ?? [];
  return zodIssue.keys.map((key) => {
    const suggestion = closestKey(key, known);
    const hint = suggestion
      ? `did you mean "${suggestion}"?`
      : known.length > 0
        ? `known keys here: ${known.join(', ')}`
        : '';
    return issue([...at, key], `unknown key${hint ? ` (${hint})` : ''}`);
  });
}

function logLevelFromEnv(env: NodeJS.ProcessEnv): { value?: Config['log']['level']; issue?: PathIssue } {
  const wanted = env['BATCHWATCH_LOG_LEVEL']?.trim().toLowerCase();
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

function toConfig(file: ParsedFile, logLevel: Config['log']['level'] | undefined): Config {
  const so = file.superoffice;
  const optional = (value: string | undefined) => (value === undefined || value === '' ? undefined : value);
  const superoffice: Config['superoffice'] = {
    url: so.url,
    timeout: so.timeout,
    associatesPerRequest: so.associatesPerRequest,
    maxConcurrentRequests: so.maxConcurrentRequests,
    timeZone: so.timeZone,
  };
  for (const key of ['applicationToken', 'ticket', 'username', 'password'] as const) {
    const value = optional(so[key]);
    if (value !== undefined) superoffice[key] = value;
  }

  const schedules = file.schedules.map((s): ScheduleConfig => {
    const timing: ScheduleConfig['timing'] =
      s.every !== undefined ? { every: s.every } : s.tz !== undefined ? { cron: (s.cron ?? '').trim(), tz: s.tz } : { cron: (s.cron ?? '').trim() };
    const schedule: ScheduleConfig = { name: s.name, associates: s.associates, timing };
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
    redis: { url: file.redis.url, prefix: file.redis.prefix },
    schedules,
    rules,
    mail: {
      enabled: file.mail.enabled,
      smtp: file.mail.smtp ?? '',
      from: file.mail.from ?? '',
      to: file.mail.to ?? [],
      retryDelay: file.mail.retryDelay,
      retryFor: file.mail.retryFor,
    },
    http: { host: file.http.host, port: file.http.port },
    metrics: { maxExportedTasks: file.metrics.maxExportedTasks },
    log: { level: logLevel ?? file.log.level },
  };
}

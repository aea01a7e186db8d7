import { createRequire } from 'node:module';

interface CronParserModule {
  CronExpressionParser: { parse(expression: string, options?: { tz?: string }): unknown };
}

const ALIASES = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@hourly', '@minutely']);
const FIELD = /^[0-9A-Za-z*?/,#\-]+$/;

let parser: CronParserModule | null | undefined;

// cron-parser arrives with bullmq (which evaluates our cron schedules with it), so it is used only if
// it resolves; otherwise the structural check alone applies.
function loadParser(): CronParserModule | null {
  if (parser !== undefined) return parser;
  try {
    const loaded: unknown = createRequire(import.meta.url)('cron-parser');
    parser = isCronParser(loaded) ? loaded : null;
  } catch {
    parser = null;
  }
  return parser;
}

function isCronParser(value: unknown): value is CronParserModule {
  if (value === null || typeof value !== 'object' || !('CronExpressionParser' in value)) return false;
  const candidate = value.CronExpressionParser;
  return typeof candidate === 'function' && 'parse' in candidate && typeof candidate.parse === 'function';
}

/** Why `expression` is not a usable cron expression, or undefined when it is. */
export function cronProblem(expression: string): string | undefined {
  const text = expression.trim();
  if (text === '') return 'must not be empty';
  if (text.startsWith('@')) {
    if (!ALIASES.has(text)) return `unknown cron alias "${text}" (known: ${[...ALIASES].join(', ')})`;
  } else {
    const fields = text.split(/\s+/);
    if (fields.length !== 5 && fields.length !== 6) {
      return `a cron expression has 5 fields (minute hour day month weekday) or 6 (with seconds first); got ${fields.length}`;
    }
    const bad = fields.find((field) => !FIELD.test(field));
    if (bad !== undefined) return `"${bad}" is not a valid cron field`;
  }
  const cron = loadParser();
  if (cron) {
    try {
      cron.CronExpressionParser.parse(text);
    } catch (error) {
      return `not a valid cron expression: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
  return undefined;
}


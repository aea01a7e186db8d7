/** Whether a schedule's cron expression is usable, and why not. */
import { CronExpressionParser } from 'cron-parser';
import { quoted } from './quoted.ts';

const ALIASES = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@hourly', '@minutely']);
const FIELD = /^[0-9A-Za-z*?/,#-]+$/;

/** Why `expression` is not a usable cron expression, or undefined when it is. */
export function cronProblem(expression: string): string | undefined {
  const text = expression.trim();
  if (text === '') return 'must not be empty';
  if (text.startsWith('@')) {
    if (!ALIASES.has(text)) return `unknown cron alias ${quoted(text)} (known: ${[...ALIASES].join(', ')})`;
  } else {
    const fields = text.split(/\s+/);
    if (fields.length !== 5 && fields.length !== 6) {
      return `a cron expression has 5 fields (minute hour day month weekday) or 6 (with seconds first); got ${fields.length}`;
    }
    const bad = fields.find((field) => !FIELD.test(field));
    if (bad !== undefined) return `${quoted(bad)} is not a valid cron field`;
  }
  // The same parser BullMQ schedules with, so what passes here is what runs.
  try {
    CronExpressionParser.parse(text);
  } catch (error) {
    // The parser's message quotes parts of the expression.
    return `not a valid cron expression: ${quoted(error instanceof Error ? error.message : String(error))}`;
  }
  return undefined;
}

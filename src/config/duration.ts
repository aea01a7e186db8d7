/** Duration strings with units: "500ms", "30s", "15m", "4h", "1d", "1h30m", "0s". */
import { QuotingError, quoted } from './quoted.ts';

export class DurationError extends QuotingError {
  override name = 'DurationError';
}

/** The longest wait a Node.js timer can take (2^31-1 ms); a longer one fires at once. Timer-backed keys stay at or below 24d. */
export const MAX_TIMER_MS = 24 * 86_400_000;
/** Any duration: 10 years is "never" for every rule, and far inside what dates and Redis expiries can hold. */
export const MAX_DURATION_MS = 3650 * 86_400_000;

const UNITS = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
  ['ms', 1],
] as const;

const UNIT_MS = new Map<string, number>(UNITS);
const UNIT_RANK = new Map<string, number>(UNITS.map(([unit], rank) => [unit, rank]));
const PART = /(\d+(?:\.\d+)?)\s*(ms|d|h|m|s)/y;

/** Parses a duration string to milliseconds; throws DurationError with a message meant for an operator. */
export function parseDuration(text: string): number {
  const input = text.trim();
  if (input === '') throw new DurationError('empty duration; write e.g. 30s or 15m');
  if (/^[+-]?\d+(\.\d+)?$/.test(input)) {
    throw new DurationError(`durations need a unit, e.g. 15m (got ${quoted(input)}; units: ms, s, m, h, d)`);
  }
  if (input.startsWith('-')) throw new DurationError(`durations cannot be negative (got ${quoted(input)})`);

  let total = 0;
  let lastRank = -1;
  let pos = 0;
  while (pos < input.length) {
    PART.lastIndex = pos;
    const match = PART.exec(input);
    if (!match) {
      throw new DurationError(`${quoted(input)} is not a duration; write e.g. 500ms, 30s, 15m, 4h, 1d or 1h30m`);
    }
    const [, amount, unit] = match as unknown as [string, string, string];
    const rank = UNIT_RANK.get(unit) ?? 0;
    if (rank <= lastRank) {
      throw new DurationError(`${quoted(input)}: give each unit once, largest first, e.g. 1h30m`);
    }
    lastRank = rank;
    total += Number(amount) * (UNIT_MS.get(unit) ?? 0);
    pos = PART.lastIndex;
    while (input[pos] === ' ') pos++;
  }
  return Math.round(total);
}

/** Formats milliseconds the way parseDuration reads them ("1h30m", "500ms", "0s"). */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms < 0) return `-${formatDuration(-ms)}`;
  let rest = Math.round(ms);
  if (rest === 0) return '0s';
  let out = '';
  for (const [unit, size] of UNITS) {
    const count = Math.floor(rest / size);
    if (count > 0) {
      out += `${count}${unit}`;
      rest -= count * size;
    }
  }
  return out;
}

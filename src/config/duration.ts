/** Duration strings with units: "500ms", "30s", "15m", "4h", "1d", "1h30m", "0s". */

export class DurationError extends Error {
  override name = 'DurationError';
}

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
    throw new DurationError(`durations need a unit, e.g. 15m (got "${input}"; units: ms, s, m, h, d)`);
  }
  if (input.startsWith('-')) throw new DurationError(`durations cannot be negative (got "${input}")`);

  let total = 0;
  let lastRank = -1;
  let pos = 0;
  while (pos < input.length) {
    PART.lastIndex = pos;
    const match = PART.exec(input);
    if (!match) {
      throw new DurationError(`"${input}" is not a duration; write e.g. 500ms, 30s, 15m, 4h, 1d or 1h30m`);
    }
    const [, amount, unit] = match as unknown as [string, string, string];
    const rank = UNIT_RANK.get(unit) ?? 0;
    if (rank <= lastRank) {
      throw new DurationError(`"${input}": give each unit once, largest first, e.g. 1h30m`);
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

/** Times and durations as the status page writes them: UTC timestamps and short relative phrases ("3m 20s ago"). */

const UNITS: readonly [string, number][] = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
];

/** The two largest units, e.g. `2h 5m`, `40s`; under a second is `0s`. */
export function shortDuration(ms: number): string {
  let rest = Math.max(0, Math.floor(ms / 1000) * 1000);
  const parts: string[] = [];
  for (const [unit, size] of UNITS) {
    const count = Math.floor(rest / size);
    if (count > 0 || parts.length > 0) {
      if (count > 0) parts.push(`${count}${unit}`);
      rest -= count * size;
      if (parts.length === 2) break;
    }
  }
  return parts.length === 0 ? '0s' : parts.join(' ');
}

/** `2026-11-30 07:40:12 UTC`. */
export function utcText(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** `3m 20s ago`, `in 40s`, `now`. */
export function relativeText(ms: number, now: number): string {
  const delta = ms - now;
  if (Math.abs(delta) < 1000) return 'now';
  return delta < 0 ? `${shortDuration(-delta)} ago` : `in ${shortDuration(delta)}`;
}

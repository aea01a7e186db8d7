/**
 * SuperOffice dateTimes carry no offset unless a TimeZone header was sent: they are wall-clock
 * times in the installation's zone. These helpers convert with Intl, never with the process TZ.
 */

const SO_DATE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})?$/;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Throws a RangeError naming the zone when Intl does not know it. */
export function assertTimeZone(timeZone: string): void {
  try {
    formatter(timeZone);
  } catch {
    throw new RangeError(`unknown time zone "${timeZone}" (expected an IANA name such as Europe/Oslo)`);
  }
}

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function wallClockAt(epochMs: number, timeZone: string): WallClock {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(epochMs))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  return {
    year: parts.year ?? 1970,
    month: parts.month ?? 1,
    day: parts.day ?? 1,
    hour: (parts.hour ?? 0) % 24,
    minute: parts.minute ?? 0,
    second: parts.second ?? 0,
  };
}

/** Zone offset (ms, east positive) in effect at an instant. */
function offsetAt(epochMs: number, timeZone: string): number {
  // The common case needs no Intl call (formatToParts dominates parsing time on large responses).
  if (timeZone === 'UTC' || timeZone === 'Etc/UTC') return 0;
  const whole = Math.floor(epochMs / 1000) * 1000;
  const w = wallClockAt(whole, timeZone);
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - whole;
}

/** Epoch ms of a wall-clock time in a zone (the later instant for a DST overlap, shifted forward in a gap). */
function zonedToEpoch(wallAsUtc: number, timeZone: string): number {
  const first = wallAsUtc - offsetAt(wallAsUtc, timeZone);
  const second = wallAsUtc - offsetAt(first, timeZone);
  return first === second ? first : Math.max(first, second);
}

/**
 * Parses an xs:dateTime as SuperOffice sends it. Without an offset it is read in `timeZone`.
 * DateTime.MinValue (year 1), which .NET uses for "no date", is null.
 * Returns undefined when the text is not a dateTime.
 */
export function parseSoDate(text: string, timeZone: string): number | null | undefined {
  const m = SO_DATE.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, offset] = m;
  const year = Number(y);
  if (year <= 1) return null;
  const ms = frac ? Number(frac.slice(0, 3).padEnd(3, '0')) : 0;
  const asUtc = Date.UTC(year, Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms);
  if (Number.isNaN(asUtc)) return undefined;
  // Date.UTC rolls impossible dates over (Feb 31 -> Mar 3); such text is not a date.
  const check = new Date(asUtc);
  if (check.getUTCMonth() !== Number(mo) - 1 || check.getUTCDate() !== Number(d) || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) {
    return undefined;
  }
  if (offset === undefined) return zonedToEpoch(asUtc, timeZone);
  if (offset === 'Z') return asUtc;
  const sign = offset.startsWith('-') ? -1 : 1;
  const minutes = Number(offset.slice(1, 3)) * 60 + Number(offset.slice(4, 6));
  return asUtc - sign * minutes * 60_000;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** Formats an instant as SuperOffice would: wall-clock time in `timeZone` (milliseconds when not 0), without an offset. */
export function formatSoDate(epochMs: number, timeZone: string): string {
  const w = wallClockAt(epochMs, timeZone);
  const ms = ((epochMs % 1000) + 1000) % 1000;
  const fraction = ms ? `.${pad(ms, 3)}` : '';
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}${fraction}`;
}

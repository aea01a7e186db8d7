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

const DAY_MS = 86_400_000;

/** Days since 1970-01-01 of a proleptic Gregorian date, for any year (Date.UTC reads years 0-99 as 1900-1999). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Epoch ms of a wall-clock time read as UTC (month 1-12); valid for every year, unlike Date.UTC. */
function utcEpoch(year: number, month: number, day: number, hour: number, minute: number, second: number, ms = 0): number {
  return daysFromCivil(year, month, day) * DAY_MS + ((hour * 60 + minute) * 60 + second) * 1000 + ms;
}

/** Zone offset (ms, east positive) in effect at an instant. */
function offsetAt(epochMs: number, timeZone: string): number {
  // The common case needs no Intl call (formatToParts dominates parsing time on large responses).
  if (timeZone === 'UTC' || timeZone === 'Etc/UTC') return 0;
  const whole = Math.floor(epochMs / 1000) * 1000;
  const w = wallClockAt(whole, timeZone);
  return utcEpoch(w.year, w.month, w.day, w.hour, w.minute, w.second) - whole;
}

/** Epoch ms of a wall-clock time in a zone (the later instant for a DST overlap, shifted forward in a gap). */
function zonedToEpoch(wallAsUtc: number, timeZone: string): number {
  const first = wallAsUtc - offsetAt(wallAsUtc, timeZone);
  const second = wallAsUtc - offsetAt(first, timeZone);
  return first === second ? first : Math.max(first, second);
}

/** xs:dateTime allows offsets up to 14:00. */
const MAX_OFFSET_MINUTES = 14 * 60;

/**
 * Parses an xs:dateTime as SuperOffice sends it. Without an offset it is read in `timeZone`.
 * DateTime.MinValue (year 1), which .NET uses for "no date", is null.
 * Returns undefined when the text is not a dateTime: impossible dates (Feb 31, 24:00) and offsets beyond
 * ±14:00 or with minutes above 59 included. Years 2-99 are those years, not 1902-1999.
 */
export function parseSoDate(text: string, timeZone: string): number | null | undefined {
  const m = SO_DATE.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, offset] = m;
  const year = Number(y);
  if (year <= 1) return null;
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) return undefined;
  const ms = frac ? Number(frac.slice(0, 3).padEnd(3, '0')) : 0;
  const asUtc = utcEpoch(year, month, day, hour, minute, second, ms);
  if (offset === undefined) return zonedToEpoch(asUtc, timeZone);
  if (offset === 'Z') return asUtc;
  const offsetHours = Number(offset.slice(1, 3));
  const offsetMinutes = Number(offset.slice(4, 6));
  if (offsetMinutes > 59 || offsetHours * 60 + offsetMinutes > MAX_OFFSET_MINUTES) return undefined;
  const sign = offset.startsWith('-') ? -1 : 1;
  return asUtc - sign * (offsetHours * 60 + offsetMinutes) * 60_000;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** Formats an instant as SuperOffice would: wall-clock time in `timeZone` (milliseconds when not 0), without an offset. */
export function formatSoDate(epochMs: number, timeZone: string): string {
  const w = wallClockAt(epochMs, timeZone);
  const ms = ((epochMs % 1000) + 1000) % 1000;
  const fraction = ms ? `.${pad(ms, 3)}` : '';
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}${fraction}`;
}

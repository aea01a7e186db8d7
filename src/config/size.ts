/** Byte sizes for the config: a whole number of bytes, or a number with a unit (KB, MB, GB; KiB, MiB, GiB). */

import { QuotingError, quoted } from './quoted.ts';

export class SizeError extends QuotingError {
  override name = 'SizeError';
}

const UNITS: Readonly<Record<string, number>> = {
  b: 1,
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};

const SIZE = /^(\d+(?:\.\d+)?)\s*([a-z]+)?$/i;

/** Bytes of `value` (a number of bytes, or text such as "256MiB"); throws SizeError with a message for an operator. */
export function parseSize(value: number | string): number {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) throw new SizeError(`expected a whole number of bytes, got ${value}`);
    return value;
  }
  const match = SIZE.exec(value.trim());
  const unit = match?.[2]?.toLowerCase() ?? 'b';
  const factor = UNITS[unit];
  if (!match || factor === undefined) {
    throw new SizeError(
      `${quoted(value)} is not a size (write bytes, or e.g. 64MiB, 500MB; units: ${Object.keys(UNITS).join(', ')}, any case)`,
    );
  }
  const bytes = Math.round(Number(match[1]) * factor);
  if (!Number.isSafeInteger(bytes)) throw new SizeError(`${quoted(value)} is too large`);
  return bytes;
}

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSoDate } from '../src/superoffice/dates.ts';

/** Dates at the edges: early years are those years, offsets are bounded like xs:dateTime's. */
describe('SuperOffice dates at the edges', () => {
  it('years 0002-0099 are those years, not 1902-1999', () => {
    const year50 = parseSoDate('0050-03-01T12:00:00', 'UTC');
    assert.equal(typeof year50, 'number');
    assert.equal(new Date(year50 as number).toISOString(), '0050-03-01T12:00:00.000Z');
    assert.equal(new Date(parseSoDate('0002-01-01T00:00:00Z', 'Europe/Oslo') as number).toISOString(), '0002-01-01T00:00:00.000Z');
    assert.equal(new Date(parseSoDate('0099-12-31T23:59:59.5', 'UTC') as number).toISOString(), '0099-12-31T23:59:59.500Z');
    assert.equal(parseSoDate('0004-02-29T00:00:00', 'UTC') !== undefined, true, 'year 4 is a leap year');
    assert.equal(parseSoDate('0100-02-29T00:00:00', 'UTC'), undefined, 'year 100 is not');
    assert.equal(parseSoDate('0001-01-01T00:00:00', 'UTC'), null, '.NET DateTime.MinValue stays "no date"');
  });

  it('offsets are at most ±14:00 with minutes 00-59', () => {
    assert.equal(parseSoDate('2024-07-01T12:00:00+99:99', 'UTC'), undefined);
    assert.equal(parseSoDate('2024-07-01T12:00:00+14:01', 'UTC'), undefined);
    assert.equal(parseSoDate('2024-07-01T12:00:00-15:00', 'UTC'), undefined);
    assert.equal(parseSoDate('2024-07-01T12:00:00+05:60', 'UTC'), undefined);
    assert.equal(parseSoDate('2024-07-01T12:00:00+14:00', 'UTC'), Date.UTC(2024, 6, 1, 12) - 14 * 3_600_000);
    assert.equal(parseSoDate('2024-07-01T12:00:00-14:00', 'UTC'), Date.UTC(2024, 6, 1, 12) + 14 * 3_600_000);
    assert.equal(parseSoDate('2024-07-01T12:00:00+05:45', 'UTC'), Date.UTC(2024, 6, 1, 6, 15));
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertTimeZone, formatSoDate, parseSoDate } from '../src/superoffice/dates.ts';

describe('SuperOffice dates', () => {
  it('reads offset-less times as wall-clock time in the zone, across DST', () => {
    assert.equal(parseSoDate('2024-07-01T12:00:00', 'Europe/Oslo'), Date.UTC(2024, 6, 1, 10));
    assert.equal(parseSoDate('2024-12-24T18:00:00', 'Europe/Oslo'), Date.UTC(2024, 11, 24, 17));
    assert.equal(parseSoDate('2024-03-31T03:30:00', 'Europe/Oslo'), Date.UTC(2024, 2, 31, 1, 30), 'first hour after spring-forward');
    assert.equal(parseSoDate('2024-07-01T12:00:00', 'America/New_York'), Date.UTC(2024, 6, 1, 16));
    assert.equal(parseSoDate('2024-07-01T12:00:00', 'UTC'), Date.UTC(2024, 6, 1, 12));
  });

  it('honours an explicit offset or Z whatever the zone', () => {
    assert.equal(parseSoDate('2024-07-01T12:00:00Z', 'Europe/Oslo'), Date.UTC(2024, 6, 1, 12));
    assert.equal(parseSoDate('2024-07-01T12:00:00-05:30', 'Europe/Oslo'), Date.UTC(2024, 6, 1, 17, 30));
    assert.equal(parseSoDate('2024-07-01T12:00:00.25+02:00', 'UTC'), Date.UTC(2024, 6, 1, 10, 0, 0, 250));
  });

  it('treats .NET DateTime.MinValue as no date and rejects non-dates', () => {
    assert.equal(parseSoDate('0001-01-01T00:00:00', 'Europe/Oslo'), null);
    assert.equal(parseSoDate('yesterday', 'UTC'), undefined);
    assert.equal(parseSoDate('2024-13-01', 'UTC'), undefined);
    assert.equal(parseSoDate('2024-02-31T10:00:00', 'UTC'), undefined, 'no silent roll-over to March');
    assert.equal(parseSoDate('2024-02-29T24:00:00', 'UTC'), undefined);
    assert.equal(parseSoDate('2024-02-29T23:59:59', 'UTC'), Date.UTC(2024, 1, 29, 23, 59, 59));
  });

  it('formats as the installation would and round-trips', () => {
    const instant = Date.UTC(2024, 6, 1, 10, 0, 0, 42);
    assert.equal(formatSoDate(instant, 'Europe/Oslo'), '2024-07-01T12:00:00.042');
    assert.equal(formatSoDate(Date.UTC(2024, 0, 1), 'UTC'), '2024-01-01T00:00:00');
    for (const zone of ['UTC', 'Europe/Oslo', 'America/New_York', 'Asia/Kolkata']) {
      assert.equal(parseSoDate(formatSoDate(instant, zone), zone), instant, zone);
    }
  });

  it('names an unknown zone', () => {
    assert.throws(() => assertTimeZone('Mars/Olympus'), /unknown time zone "Mars\/Olympus"/);
    assert.doesNotThrow(() => assertTimeZone('Europe/Oslo'));
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DurationError, formatDuration, parseDuration } from '../src/config/duration.ts';

describe('parseDuration', () => {
  const cases: [string, number][] = [
    ['500ms', 500],
    ['30s', 30_000],
    ['15m', 900_000],
    ['4h', 14_400_000],
    ['1d', 86_400_000],
    ['1h30m', 5_400_000],
    ['1d2h3m4s5ms', 93_784_005],
    ['0s', 0],
    ['1.5h', 5_400_000],
    [' 2m ', 120_000],
    ['1h 30m', 5_400_000],
  ];
  for (const [text, ms] of cases) {
    it(`reads "${text}" as ${ms}ms`, () => assert.equal(parseDuration(text), ms));
  }

  it('rejects a bare number, asking for a unit', () => {
    assert.throws(
      () => parseDuration('15'),
      (error: unknown) => {
        assert.ok(error instanceof DurationError);
        assert.match(error.message, /durations need a unit, e.g. 15m/);
        return true;
      },
    );
    assert.throws(() => parseDuration('0'), /need a unit/);
  });

  for (const junk of ['', 'abc', '10x', '5 minutes', '1h30', 'm', '30m1h', '1h1h', '-5m', '1,5h']) {
    it(`rejects ${JSON.stringify(junk)}`, () => {
      assert.throws(() => parseDuration(junk), DurationError);
    });
  }

  it('names the rejected text and the accepted units', () => {
    assert.throws(() => parseDuration('10x'), /"10x" is not a duration; write e.g. 500ms, 30s/);
    assert.throws(() => parseDuration('30m1h'), /largest first/);
  });
});

describe('formatDuration', () => {
  const cases: [number, string][] = [
    [0, '0s'],
    [500, '500ms'],
    [30_000, '30s'],
    [900_000, '15m'],
    [5_400_000, '1h30m'],
    [86_400_000, '1d'],
    [93_784_005, '1d2h3m4s5ms'],
  ];
  for (const [ms, text] of cases) {
    it(`writes ${ms}ms as "${text}"`, () => assert.equal(formatDuration(ms), text));
  }

  it('round trips through parseDuration', () => {
    const samples = [0, 1, 999, 1_000, 59_999, 60_000, 3_599_999, 3_600_000, 86_399_999, 86_400_000, 7 * 86_400_000 + 1];
    for (let ms = 1; ms < 10 * 86_400_000; ms = Math.floor(ms * 3.7) + 11) samples.push(ms);
    for (const ms of samples) assert.equal(parseDuration(formatDuration(ms)), ms, `round trip of ${ms}`);
    for (const text of ['500ms', '30s', '15m', '4h', '1d', '1h30m', '2d4h']) {
      assert.equal(formatDuration(parseDuration(text)), text);
    }
  });

  it('writes negative durations with a sign', () => assert.equal(formatDuration(-1_500), '-1s500ms'));
});

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CHROMIUM_MISSING } from './helpers/browser.ts';
import { PROMTOOL_MISSING } from './helpers/prometheus-text.ts';
import { skipWithout } from './helpers/tools.ts';

/** A test file run with only node on PATH (no chromium, no promtool), with or without BATCHWATCH_CI=1. */
function runWithoutTools(file: string, ci: boolean): { status: number | null; output: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', file], {
    cwd: new URL('..', import.meta.url),
    env: { PATH: bin, HOME: process.env.HOME ?? tmpdir(), ...(ci ? { BATCHWATCH_CI: '1' } : {}) },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

const bin = mkdtempSync(join(tmpdir(), 'batchwatch-only-node-'));
symlinkSync(process.execPath, join(bin, 'node'));

/** BATCHWATCH_CI=1 (set by .ci/run, which installs chromium and prometheus): a missing tool fails the tests that need it. */
describe('tests that need an outside tool', () => {
  after(() => rmSync(bin, { recursive: true, force: true }));

  it('are skipped when the tool is missing, and run (to fail) when BATCHWATCH_CI=1 requires it', () => {
    assert.equal(skipWithout(true, 'x', false), false);
    assert.equal(skipWithout(false, 'x', false), 'x');
    assert.equal(skipWithout(false, 'x', true), false);
  });

  it('.ci/run sets BATCHWATCH_CI=1 before npm test', () => {
    const script = readFileSync(new URL('../.ci/run', import.meta.url), 'utf8');
    const exported = script.indexOf('export BATCHWATCH_CI=1');
    assert.ok(exported > 0, '.ci/run exports BATCHWATCH_CI=1');
    assert.ok(exported < script.lastIndexOf('npm test'), 'before npm test');
  });

  for (const [file, missing] of [
    ['test/promtool-rules.test.ts', PROMTOOL_MISSING],
    ['test/status-browser.test.ts', CHROMIUM_MISSING],
  ] as const) {
    it(`${file}: skipped without the tool; failed under BATCHWATCH_CI=1`, () => {
      const plain = runWithoutTools(file, false);
      assert.equal(plain.status, 0, plain.output);
      assert.ok(plain.output.includes(`# SKIP ${missing}`), plain.output);
      const ci = runWithoutTools(file, true);
      assert.notEqual(ci.status, 0, ci.output);
      assert.ok(ci.output.includes(missing), ci.output);
      assert.doesNotMatch(ci.output, /# SKIP/);
    });
  }
});

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, parseConfig } from '../src/config/load.ts';
import { runCli } from './helpers/cli.ts';

/** The `metrics:` section: the cap on tasks with per-task series. */

const BASE = `
superoffice:
  url: https://sod.superoffice.com/Cust12345
  ticket: t
schedules:
  - name: sales
    associates: [12]
    every: 60s
mail:
  enabled: false
`;

function issueAt(yaml: string, path: string): string {
  try {
    parseConfig(yaml, {}, 'test.yaml');
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    const issue = error.issues.find((i) => i.path === path);
    assert.ok(issue, `no issue at ${path}: ${error.message}`);
    return issue.message;
  }
  assert.fail('expected the config to be rejected');
}

describe('metrics.maxExportedTasks', () => {
  const dir = mkdtempSync(join(tmpdir(), 'batchwatch-metrics-config-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('defaults to 25,000 and accepts 0 (no per-task series) or a number from the environment', () => {
    assert.equal(parseConfig(BASE, {}).metrics.maxExportedTasks, 25_000);
    assert.equal(parseConfig(`${BASE}metrics: { maxExportedTasks: 0 }\n`, {}).metrics.maxExportedTasks, 0);
    assert.equal(parseConfig(`${BASE}metrics:\n  maxExportedTasks: \${CAP}\n`, { CAP: '5000' }).metrics.maxExportedTasks, 5000);
  });

  it('rejects negative, fractional and non-numeric values, and unknown keys in the section', () => {
    assert.match(issueAt(`${BASE}metrics: { maxExportedTasks: -1 }\n`, 'metrics.maxExportedTasks'), /at least 0/);
    assert.match(issueAt(`${BASE}metrics: { maxExportedTasks: 2.5 }\n`, 'metrics.maxExportedTasks'), /whole number|integer/);
    assert.match(issueAt(`${BASE}metrics: { maxExportedTasks: lots }\n`, 'metrics.maxExportedTasks'), /number/);
    assert.match(issueAt(`${BASE}metrics: { maxTasks: 5 }\n`, 'metrics.maxTasks'), /unknown|not a known/i);
  });

  it('a bad value makes `check` exit 2 naming the key', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, `${BASE}metrics:\n  maxExportedTasks: -5\n`);
    const result = await runCli(['check', '--config', file], {});
    assert.equal(result.code, 2, result.stdout + result.stderr);
    assert.match(result.stdout + result.stderr, /metrics\.maxExportedTasks/);
  });
});

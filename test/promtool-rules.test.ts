import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PROMTOOL_MISSING, usePromtool, promtool } from './helpers/prometheus-text.ts';

const deploy = fileURLToPath(new URL('../deploy/prometheus/', import.meta.url));
const skip = !usePromtool && PROMTOOL_MISSING;

describe('deploy/prometheus with promtool', { skip }, () => {
  it('promtool check rules accepts the alerting rules', () => {
    const { status, output } = promtool(['check', 'rules', `${deploy}rules/batchwatch.rules.yml`]);
    assert.equal(status, 0, output);
    assert.match(output, /SUCCESS: 7 rules found/);
  });

  it('promtool test rules: every alert fires and stays quiet where it should', () => {
    const { status, output } = promtool(['test', 'rules', `${deploy}rules/batchwatch.rules.test.yml`]);
    assert.equal(status, 0, output);
    assert.match(output, /SUCCESS/);
  });

  it('promtool check config accepts the example scrape config and finds the rule file', () => {
    const { status, output } = promtool(['check', 'config', `${deploy}prometheus.yml`]);
    assert.equal(status, 0, output);
    assert.match(output, /1 rule files found/);
  });

  it('the example scrape config stays valid with a scrape interval under 10 s', () => {
    const dir = mkdtempSync(join(tmpdir(), 'batchwatch-prom-'));
    try {
      const text = readFileSync(`${deploy}prometheus.yml`, 'utf8').replace('scrape_interval: 30s', 'scrape_interval: 5s');
      assert.match(text, /scrape_interval: 5s/);
      writeFileSync(join(dir, 'prometheus.yml'), text);
      symlinkSync(`${deploy}rules`, join(dir, 'rules'));
      const { status, output } = promtool(['check', 'config', join(dir, 'prometheus.yml')]);
      assert.equal(status, 0, output);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

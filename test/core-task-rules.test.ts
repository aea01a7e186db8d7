import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TaskRuleOverride } from '../src/core/model.ts';
import { compileTaskGlob, effectiveRules, taskNameMatches } from '../src/core/task-rules.ts';
import { HOUR, MINUTE, rules } from './helpers/tasks.ts';

describe('taskNameMatches', () => {
  const cases: [glob: string, name: string, matches: boolean][] = [
    ['TravelGateway*', 'TravelGateway', true],
    ['TravelGateway*', 'TravelGateway sync', true],
    ['TravelGateway*', 'My TravelGateway sync', false],
    ['TravelGateway*', 'travelgateway sync', false],
    ['Mailing*', 'Mailing/Weekly', true],
    ['*Import*', 'Contact Import: a/b', true],
    ['*', '.hidden task', true],
    ['Export ?', 'Export 1', true],
    ['Export ?', 'Export 12', false],
    ['{Import,Export}*', 'Export contacts', true],
    ['{Import,Export}*', 'Mailing', false],
    ['Foo (1)', 'Foo (1)', true],
    ['Sync', 'Sync extra', false],
    ['Sync', 'Sync', true],
    ['*Sync*', 'ERP Sync\\1', true],
    ['!Mailing*', 'Import', true],
    ['!Mailing*', 'Mailing weekly', false],
  ];
  for (const [glob, name, expected] of cases) {
    it(`${JSON.stringify(glob)} ${expected ? 'matches' : 'does not match'} ${JSON.stringify(name)}`, () => {
      assert.equal(taskNameMatches(glob, name), expected);
    });
  }

  it('a glob that cannot be compiled matches nothing instead of throwing (config validation reports it)', () => {
    assert.throws(() => compileTaskGlob(''));
    assert.equal(taskNameMatches('', ''), false);
    assert.equal(taskNameMatches('', 'Import'), false);
  });

  it('caches compiled globs', () => {
    assert.equal(compileTaskGlob('Cached*'), compileTaskGlob('Cached*'));
  });
});

describe('effectiveRules', () => {
  const base = rules({ stallAfter: 15 * MINUTE, queuedTimeout: 10 * MINUTE });
  const overrides: TaskRuleOverride[] = [
    { name: 'TravelGateway*', ignore: true },
    { name: 'Mailing weekly', ignore: false, queuedTimeout: 0 },
    { name: 'Mailing*', ignore: false, stallAfter: 2 * HOUR },
    { name: 'Mailing*', ignore: true },
    { name: 'Export*', ignore: false, stallAfter: 0, queuedTimeout: HOUR },
  ];
  const r = { ...base, tasks: overrides };
  const cases: [name: string, expected: ReturnType<typeof effectiveRules>][] = [
    ['Import contacts', { ignore: false, stallAfter: 15 * MINUTE, queuedTimeout: 10 * MINUTE }],
    ['TravelGateway sync', { ignore: true, stallAfter: 15 * MINUTE, queuedTimeout: 10 * MINUTE }],
    ['Mailing weekly', { ignore: false, stallAfter: 15 * MINUTE, queuedTimeout: 0 }],
    ['Mailing spring', { ignore: false, stallAfter: 2 * HOUR, queuedTimeout: 10 * MINUTE }],
    ['Export all', { ignore: false, stallAfter: 0, queuedTimeout: HOUR }],
    ['', { ignore: false, stallAfter: 15 * MINUTE, queuedTimeout: 10 * MINUTE }],
  ];
  for (const [name, expected] of cases) {
    it(`${JSON.stringify(name)}: first match wins, unset fields fall back`, () => {
      assert.deepEqual(effectiveRules(name, r), expected);
    });
  }

  it('no overrides: the global rules', () => {
    assert.deepEqual(effectiveRules('Anything', base), { ignore: false, stallAfter: 15 * MINUTE, queuedTimeout: 10 * MINUTE });
  });
});

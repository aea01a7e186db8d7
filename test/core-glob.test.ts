// Task-name globs: the syntax, what is refused at load, and hostile names that would make a backtracking matcher freeze.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig } from '../src/config/load.ts';
import { compileGlob, GlobError, MAX_GLOB_ALTERNATIVES } from '../src/core/glob.ts';

describe('compileGlob', () => {
  const cases: [glob: string, name: string, matches: boolean][] = [
    ['*', '', true],
    ['*', 'anything / at all', true],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'aXXbYYc', true],
    ['a*b*c', 'aXXbYY', false],
    ['*.csv', 'report.csv.bak', false],
    ['?', 'é', true],
    ['?', '😀', true],
    ['??', '😀', false],
    ['Export ?', 'Export /', true],
    ['[a-c]x', 'bx', true],
    ['[a-c]x', 'dx', false],
    ['[!a-c]x', 'dx', true],
    ['[^a-c]x', 'ax', false],
    ['[]]', ']', true],
    ['[a\\-z]', '-', true],
    ['[abc', '[abc', true],
    ['\\*literal', '*literal', true],
    ['\\*literal', 'xliteral', false],
    ['{Import,Export}*', 'Export contacts', true],
    ['{Import,{Ex,Re}port}*', 'Report x', true],
    ['{solo}', '{solo}', true],
    ['!{Import,Export}*', 'Mailing', true],
    ['!!Import', 'Import', true],
    ['Foo (1)', 'Foo (1)', true],
    ['Sync', 'sync', false],
  ];
  for (const [glob, name, expected] of cases) {
    it(`${JSON.stringify(glob)} ${expected ? 'matches' : 'does not match'} ${JSON.stringify(name)}`, () => {
      assert.equal(compileGlob(glob)(name), expected);
    });
  }

  it('refuses what it does not support, saying what to write instead', () => {
    assert.throws(() => compileGlob(''), GlobError);
    assert.throws(() => compileGlob('*(a|b)'), /extglob patterns .* are not supported/);
    assert.throws(() => compileGlob('x+(y)'), /extglob/);
    assert.throws(() => compileGlob('[[:alpha:]]x'), /POSIX classes .* write the range/);
    assert.throws(() => compileGlob('Report {1..3}'), /brace ranges .* list the values/);
    assert.throws(
      () => compileGlob('{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}{o,p}{q,r}'),
      new RegExp(`more than ${MAX_GLOB_ALTERNATIVES} alternatives`),
    );
  });

  // Before: picomatch's regex backtracked, quadratic in the name for two stars around a word and worse with
  // more; a 1 MB name from a hostile server against "*Sync*ERP*" took minutes with the event loop blocked.
  it('answers for a 1 MB hostile name against globs with several stars (work bounded by name x glob length)', { timeout: 30_000 }, () => {
    const hostile = 'Sync'.repeat(256 * 1024);
    assert.equal(compileGlob('*Sync*ERP*')(hostile), false);
    assert.equal(compileGlob('*a*a*a*a*a*a*a*a*a*a*a*b')('a'.repeat(1024 * 1024)), false);
    assert.equal(compileGlob('*[Ss]ync*[Ss]ync*X')(hostile), false);
    assert.equal(compileGlob('*Sync*Sync*')(hostile), true);
  });
});

describe('config: rules.tasks[].name', () => {
  const yaml = (glob: string) => `
superoffice: { url: "https://sod.superoffice.com/Cust1", ticket: "t-123456789" }
schedules: [{ name: a, associates: [1], every: 60s }]
rules:
  tasks:
    - name: "Mailing*"
    - name: ${JSON.stringify(glob)}
mail: { enabled: false }
`;

  it('a glob that cannot be used is an error naming the key (it used to match nothing, silently)', () => {
    try {
      parseConfig(yaml('*(Import|Export)'), {});
      assert.fail('expected a config error');
    } catch (error) {
      assert.ok(error instanceof ConfigError, String(error));
      assert.ok(
        error.issues.some((it) => it.path === 'rules.tasks[1].name' && /extglob/.test(it.message)),
        error.message,
      );
    }
  });

  it('a usable glob is accepted as written', () => {
    assert.equal(parseConfig(yaml('{Import,Export}*'), {}).rules.tasks[1]?.name, '{Import,Export}*');
  });
});

import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger } from '../src/log.ts';
import { MIN_SCRUBBED_LENGTH, ROTATING_VALUES_KEPT, SecretSet, secrets } from '../src/redact/secrets.ts';

describe('SecretSet', () => {
  const secret = 'Tk/7+zz:Secret Value"x';
  const set = new SecretSet();
  set.add(secret);

  it('scrubs the secret as is and in its encoded forms', () => {
    const base64 = Buffer.from(secret).toString('base64');
    const forms = [
      secret,
      encodeURIComponent(secret),
      encodeURIComponent(secret).replace(/%20/g, '+'),
      JSON.stringify(secret).slice(1, -1),
      base64,
      base64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''),
      secret.toLowerCase(),
      encodeURIComponent(secret).toLowerCase(),
    ];
    for (const form of forms) {
      const out = set.scrub(`before ${form} after`);
      assert.equal(out, 'before *** after', `form ${form}`);
    }
  });

  it('leaves other text alone and ignores values too short to scrub safely', () => {
    const short = new SecretSet();
    short.add('demo');
    short.add('');
    short.add(undefined);
    assert.equal(short.size, 0);
    assert.equal(short.scrub('batchwatch demo'), 'batchwatch demo');
    assert.equal(set.scrub('nothing secret here'), 'nothing secret here');
    assert.ok(MIN_SCRUBBED_LENGTH >= 6);
  });

  it('grows while the process runs (a ticket issued later is scrubbed too)', () => {
    const growing = new SecretSet();
    growing.add('first-secret-1');
    assert.equal(growing.scrub('a first-secret-1 b second-secret-2'), 'a *** b second-secret-2');
    growing.add('second-secret-2');
    assert.equal(growing.scrub('a first-secret-1 b second-secret-2'), 'a *** b ***');
  });

  it('a rotating slot keeps only its newest values; configured secrets stay for good', () => {
    const rotating = new SecretSet();
    rotating.add('configured-password');
    const tokens = Array.from({ length: 50 }, (_, i) => `access-token-number-${i}`);
    for (const token of tokens) rotating.replace('mail.oauth2 access token', token);
    rotating.replace('superoffice ticket', 'ticket-number-one');
    assert.equal(rotating.size, 1 + ROTATING_VALUES_KEPT + 1, 'the list does not grow with each rotation');
    const recent = tokens.slice(-ROTATING_VALUES_KEPT);
    for (const token of recent) assert.equal(rotating.scrub(`x ${token} y`), 'x *** y', `${token} is still in flight`);
    assert.equal(rotating.scrub(`x ${tokens[0]} y`), `x ${tokens[0]} y`, 'the oldest is no longer searched for');
    assert.equal(rotating.scrub('x configured-password ticket-number-one y'), 'x *** *** y');
    rotating.replace('mail.oauth2 access token', recent[0]);
    assert.equal(rotating.size, 1 + ROTATING_VALUES_KEPT + 1, 'a value seen again is not counted twice');
  });
});

describe('logger', () => {
  it('never writes a registered secret, wherever it appears in a line', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const planted = 'planted-LOG-secret-42';
    secrets.add(planted);
    const log = createLogger('info', sink);
    log.info({ err: `server said ${planted}`, nested: { deep: encodeURIComponent(`x ${planted}`) } }, `message ${planted.toUpperCase()}`);
    assert.equal(lines.length, 1);
    assert.ok(!lines[0]!.toLowerCase().includes('planted-log-secret-42'), lines[0]);
    assert.match(lines[0]!, /server said \*\*\*/);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addressDomain } from '../src/notify/format.ts';
import { renderBatch } from '../src/notify/render.ts';
import { cases } from './notify-fixtures.ts';

describe('Message-ID domain', () => {
  it('is taken from the sender address', () => {
    assert.equal(addressDomain('"batchwatch" <bw@example.com>'), 'example.com');
    assert.equal(addressDomain('bw@ops.example.org'), 'ops.example.org');
    assert.equal(addressDomain('no address'), undefined);
  });

  it('makes Message-ID and thread roots the same whichever host renders the mail', () => {
    const a = renderBatch(cases.failed!, { hostname: 'replica-a', idDomain: 'example.com' });
    const b = renderBatch(cases.failed!, { hostname: 'container-7f3a', idDomain: 'example.com' });
    assert.equal(a.messageId, b.messageId);
    assert.deepEqual(a.references, b.references);
    assert.match(a.messageId, /@example\.com>$/);
    assert.notEqual(a.text, b.text, 'the footer still names the sending host');
  });
});

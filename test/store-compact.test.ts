import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compactRecord } from '../src/store/compact-record.ts';
import { decodeTaskRecord, encodeTaskRecord } from '../src/store/record-codec.ts';
import { detachString, StringPool } from '../src/store/string-pool.ts';
import { T0, task } from './helpers/tasks.ts';

describe('compact task records', () => {
  const record = {
    task: task({
      id: 7,
      name: 'ImportContacts',
      state: 'Started',
      description: `Batch job 7 ${'x'.repeat(200)}`,
      parameterObject: { selectionId: '12', format: 'csv' },
    }),
    firstSeenAt: T0,
    stateSince: T0 + 1,
    progressSince: T0 + 2,
  };

  it('keep every value, as a fresh object', () => {
    const pool = new StringPool();
    const kept = compactRecord(record, pool);
    assert.deepEqual(kept, record);
    assert.notEqual(kept.task, record.task);
    assert.deepEqual(decodeTaskRecord(encodeTaskRecord(record), pool), record);
  });

  it('copy strings cut out of bigger ones, whatever their length', () => {
    const answer = `<Name>${'A'.repeat(5000)}</Name><Name>Short</Name>`;
    const long = answer.slice(6, 5006);
    assert.equal(detachString(long), long);
    assert.equal(detachString('Short'), 'Short');
    assert.equal(detachString(''), '');
  });

  it('a full pool starts afresh instead of growing', () => {
    const pool = new StringPool(3);
    for (const s of ['a', 'b', 'c', 'd', 'e']) assert.equal(pool.string(s), s);
    assert.equal((pool as unknown as { strings: Map<string, string> }).strings.size <= 3, true);
  });
});

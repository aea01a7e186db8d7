import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { HISTORY_LENGTH, historyKey, NotificationHistory, type HistoryEntry } from '../src/notify/history.ts';
import { secrets } from '../src/redact/secrets.ts';
import { startRedis, type PrivateRedis } from './helpers/redis.ts';

const entry = (n: number, overrides: Partial<HistoryEntry> = {}): HistoryEntry => ({
  at: 1_700_000_000_000 + n,
  batchId: `sales.${n}`,
  schedule: 'sales',
  status: 'sent',
  eventIds: [`failed:${n}:1`],
  ...overrides,
});

describe('notification history (capped Redis list)', () => {
  let redis: PrivateRedis;
  let client: Redis;
  before(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
  });
  after(async () => {
    client.disconnect();
    await redis.close();
  });

  it('keeps the newest entries up to its length, newest first, under the prefix with its own hash tag', async () => {
    const history = new NotificationHistory(client, 'hist1', 5);
    for (let n = 1; n <= 8; n++) await history.append(entry(n));
    assert.deepEqual(
      (await history.recent()).map((e) => e.batchId),
      ['sales.8', 'sales.7', 'sales.6', 'sales.5', 'sales.4'],
    );
    assert.deepEqual(
      (await history.recent(2)).map((e) => e.batchId),
      ['sales.8', 'sales.7'],
    );
    assert.deepEqual(await history.recent(0), []);
    assert.equal(await client.llen(historyKey('hist1')), 5);
    assert.equal(historyKey('hist1'), 'hist1:{notify-history}:entries');
    assert.equal(HISTORY_LENGTH, 200);
  });

  it('stores one-line text scrubbed of secrets, and skips entries that do not read back', async () => {
    const history = new NotificationHistory(client, 'hist2');
    secrets.add('History-Planted-Secret');
    await history.append(
      entry(1, {
        status: 'retrying',
        subject: '[FIRING:1] task "Evil\r\nBcc: x@example.com"',
        detail: 'SMTP smtp://relay:587: 535 login History-Planted-Secret refused',
      }),
    );
    await client.lpush(historyKey('hist2'), 'not json', JSON.stringify({ at: 'yesterday' }));
    const [stored, ...rest] = await history.recent();
    assert.equal(rest.length, 0, 'malformed entries left out');
    assert.equal(stored?.subject, '[FIRING:1] task "Evil Bcc: x@example.com"');
    assert.equal(stored?.detail, 'SMTP smtp://relay:587: 535 login *** refused');
    assert.equal(stored?.status, 'retrying');
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { emptySnapshot } from '../src/core/model.ts';
import { createCommandRedis } from '../src/daemon/redis-connections.ts';
import { createLogger } from '../src/log.ts';
import { scheduleKeys } from '../src/store/keys.ts';
import { SnapshotStore } from '../src/store/snapshot-store.ts';
import { replyDroppingProxy } from './helpers/reply-dropping-proxy.ts';
import { startRedis, type PrivateRedis } from './helpers/redis.ts';

describe('store operations resent by ioredis after a lost reply', () => {
  let redisServer: PrivateRedis;
  let direct: Redis;
  let proxy: ReturnType<typeof replyDroppingProxy>;
  let store: SnapshotStore;
  let viaProxy: Redis;

  before(async () => {
    redisServer = await startRedis();
    direct = new Redis(redisServer.url);
    proxy = replyDroppingProxy(redisServer.port);
    const port = await proxy.listen();
    viaProxy = createCommandRedis(`redis://127.0.0.1:${port}`, createLogger('silent'));
    store = new SnapshotStore(viaProxy, 'resend');
    await viaProxy.ping();
  });
  after(async () => {
    viaProxy.disconnect();
    direct.disconnect();
    proxy.close();
    await redisServer.close();
  });

  it('commit: the resent script recognises its own commit instead of calling it a conflict', async () => {
    proxy.dropReplyTo(/HSET/);
    const batch = { id: 'sales.x', schedule: 'sales', createdAt: 1, events: [] };
    const result = await store.commit({ ...emptySnapshot('sales'), lastPollAt: 1 }, 0, batch);
    assert.equal(result.committed, true);
    assert.equal(await direct.hget(scheduleKeys('resend', 'sales').snapshot, 'version'), '1');
    assert.deepEqual(await direct.hkeys(scheduleKeys('resend', 'sales').outbox), ['sales.x']);
    const stale = await store.commit({ ...emptySnapshot('sales'), lastPollAt: 2 }, 0, null);
    assert.deepEqual(stale, { committed: false, currentVersion: 1 }, 'a genuinely stale commit still loses');
  });
});

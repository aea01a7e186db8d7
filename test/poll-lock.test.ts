import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createCommandRedis } from '../src/daemon/redis-connections.ts';
import { createLogger } from '../src/log.ts';
import { scheduleKeys } from '../src/store/keys.ts';
import { PollLock } from '../src/store/poll-lock.ts';
import { replyDroppingProxy } from './helpers/reply-dropping-proxy.ts';
import { startRedis, type PrivateRedis } from './helpers/redis.ts';

describe('PollLock on a real Redis', () => {
  let server: PrivateRedis;
  let redis: Redis;
  before(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
  });
  after(async () => {
    redis.disconnect();
    await server.close();
  });

  it('admits one holder until released or expired', async () => {
    const lock = new PollLock(redis, 'p6');
    assert.equal(await lock.tryLock('s', 'one', 5000), true);
    assert.equal(await lock.tryLock('s', 'two', 5000), false);
    await lock.unlock('s', 'two');
    assert.equal(await lock.tryLock('s', 'two', 5000), false, 'only the holder can release');
    await lock.unlock('s', 'one');
    assert.equal(await lock.tryLock('s', 'two', 50), true);
    await new Promise((r) => setTimeout(r, 120));
    assert.equal(await lock.tryLock('s', 'three', 50), true, 'an expired lock is free again');
  });

  it('extendLock renews only a lock the token still holds', async () => {
    const lock = new PollLock(redis, 'p7');
    assert.equal(await lock.tryLock('s', 'mine', 200), true);
    assert.equal(await lock.extendLock('s', 'mine', 60_000), true);
    assert.ok((await redis.pttl(scheduleKeys('p7', 's').lock)) > 1000, 'the TTL was renewed');
    assert.equal(await lock.extendLock('s', 'theirs', 60_000), false);
    await lock.unlock('s', 'mine');
    assert.equal(await lock.extendLock('s', 'mine', 60_000), false, 'a released lock is not renewed');
    assert.equal(await redis.exists(scheduleKeys('p7', 's').lock), 0);
  });

  it('locks of different schedules are independent and live under the schedule hash tag', async () => {
    const lock = new PollLock(redis, 'p8');
    assert.equal(await lock.tryLock('a', 't', 5000), true);
    assert.equal(await lock.tryLock('b', 't', 5000), true);
    assert.deepEqual((await redis.keys('p8:*')).sort(), ['p8:{sched:a}:lock', 'p8:{sched:b}:lock']);
  });
});

describe('PollLock commands resent by ioredis after a lost reply', () => {
  let redisServer: PrivateRedis;
  let direct: Redis;
  let proxy: ReturnType<typeof replyDroppingProxy>;
  let viaProxy: Redis;

  before(async () => {
    redisServer = await startRedis();
    direct = new Redis(redisServer.url);
    proxy = replyDroppingProxy(redisServer.port);
    const port = await proxy.listen();
    viaProxy = createCommandRedis(`redis://127.0.0.1:${port}`, createLogger('silent'));
    await viaProxy.ping();
  });
  after(async () => {
    viaProxy.disconnect();
    direct.disconnect();
    proxy.close();
    await redisServer.close();
  });

  it('tryLock: the resent SET finds our own lock and reports it acquired', async () => {
    proxy.dropReplyTo(/\r\nNX\r\n/);
    assert.equal(await new PollLock(viaProxy, 'resend').tryLock('sales', 'token-1', 60_000), true);
    assert.equal(await direct.get(scheduleKeys('resend', 'sales').lock), 'token-1');
  });
});

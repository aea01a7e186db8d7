import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Cluster } from 'ioredis';
import { emptySnapshot } from '../src/core/model.ts';
import { AckStore } from '../src/silence/ack-store.ts';
import { endedAckKey, scheduleKeys } from '../src/store/keys.ts';
import { SnapshotStore } from '../src/store/snapshot-store.ts';
import { startTestCluster, type TestCluster } from './helpers/redis-topology.ts';

const PREFIX = 'bwo';
const HOUR = 3_600_000;

/** The acknowledgement of an ended episode, kept aside for the notifier, on a Redis Cluster (3 masters, no replicas). */
describe('ended acknowledgements on a Redis Cluster', () => {
  let cluster: TestCluster;
  let client: Cluster;

  before(async () => {
    cluster = await startTestCluster({ replicas: 0 });
    client = new Cluster(cluster.seeds.map((seed) => ({ host: '127.0.0.1', port: Number(seed.split(':')[1]) })));
    client.on('error', () => undefined);
  });
  after(async () => {
    client?.disconnect();
    await cluster?.close();
  });

  it('the commit moves it under its own key in the schedule slot; the notifier still reads it', async () => {
    const slot = async (key: string) => Number(await client.call('CLUSTER', 'KEYSLOT', key));
    const episode = 'sales:stalled:4711:1000';
    assert.equal(await slot(endedAckKey(PREFIX, 'sales', episode)), await slot(scheduleKeys(PREFIX, 'sales').snapshot));

    const store = new SnapshotStore(client, PREFIX);
    const acks = new AckStore(client, PREFIX);
    assert.equal((await store.commit(emptySnapshot('sales'), 0, null)).committed, true);
    await acks.put('sales', episode, { author: 'bob', comment: 'on it', at: 1, kind: 'stalled', subject: '4711' });
    assert.deepEqual(await acks.forEpisodes('sales', [episode]), { [episode]: { author: 'bob', comment: 'on it', at: 1 } });

    assert.equal((await store.commit(emptySnapshot('sales'), 1, null, { acks: [episode], ackKeepMs: HOUR })).committed, true);
    assert.deepEqual(await acks.all('sales'), {}, 'no longer an acknowledgement of the schedule');
    assert.deepEqual(await acks.forEpisodes('sales', [episode, 'other']), { [episode]: { author: 'bob', comment: 'on it', at: 1 } });
    const kept = await client.pttl(endedAckKey(PREFIX, 'sales', episode));
    assert.ok(kept > 0 && kept <= HOUR);
  });
});

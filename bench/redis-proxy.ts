/**
 * A TCP relay between one Redis client and redis-server that counts what crosses it: bytes each way,
 * and round trips (a burst of client writes answered by the server counts once, however many
 * commands it held: a pipeline is one round trip, two awaited commands are two).
 */
import { connect, createServer, type AddressInfo, type Server } from 'node:net';

export interface TrafficCounters {
  sent: number;
  received: number;
  roundTrips: number;
}

export interface CountingProxy {
  url: string;
  counters(): TrafficCounters;
  close(): Promise<void>;
}

export async function startCountingProxy(redisPort: number): Promise<CountingProxy> {
  const totals: TrafficCounters = { sent: 0, received: 0, roundTrips: 0 };
  const server: Server = createServer((client) => {
    const upstream = connect(redisPort, '127.0.0.1');
    // Whether the last data on this connection went from the client to Redis (a request still unanswered).
    let awaitingReply = false;
    client.on('data', (data) => {
      totals.sent += data.length;
      if (!awaitingReply) totals.roundTrips += 1;
      awaitingReply = true;
      upstream.write(data);
    });
    upstream.on('data', (data) => {
      totals.received += data.length;
      awaitingReply = false;
      client.write(data);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `redis://127.0.0.1:${(server.address() as AddressInfo).port}`,
    counters: () => ({ ...totals }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export function trafficDelta(before: TrafficCounters, after: TrafficCounters): TrafficCounters {
  return { sent: after.sent - before.sent, received: after.received - before.received, roundTrips: after.roundTrips - before.roundTrips };
}

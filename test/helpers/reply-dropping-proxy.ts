import { createServer, connect, type AddressInfo, type Server } from 'node:net';

/**
 * A TCP proxy that, when armed, lets one matching command reach Redis and then cuts the connection
 * before the reply gets back: ioredis reconnects and sends the command again.
 */
export function replyDroppingProxy(upstreamPort: number) {
  let dropOn: RegExp | null = null;
  const server: Server = createServer((client) => {
    const upstream = connect(upstreamPort, '127.0.0.1');
    let armed = false;
    client.on('data', (data) => {
      if (dropOn?.test(data.toString('latin1'))) {
        armed = true;
        dropOn = null;
      }
      upstream.write(data);
    });
    upstream.on('data', (data) => {
      if (!armed) return void client.write(data);
      client.destroy();
      upstream.destroy();
    });
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });
  return {
    listen: () => new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port))),
    dropReplyTo: (pattern: RegExp) => (dropOn = pattern),
    close: () => server.close(),
  };
}

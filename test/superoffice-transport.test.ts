import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createSuperOfficeClient } from '../src/superoffice/client.ts';
import { TransportError } from '../src/superoffice/errors.ts';
import { batchAnswer, soapConfig, startSoapServer, taskXml, type SoapTestServer } from './helpers/soap-server.ts';
import { waitUntil } from './helpers/wait.ts';

const listSchedule = { name: 'sales', associates: [12], timing: { every: 60_000 } };

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  assert.fail('expected a rejection');
}

describe('limits of one call', () => {
  let server: SoapTestServer;
  before(async () => {
    server = await startSoapServer();
  });
  after(() => server.close());

  it('an answer above superoffice.maxResponseBytes ends the call, naming the key (declared and streamed lengths)', async () => {
    const client = createSuperOfficeClient(soapConfig(server.url, { maxResponseBytes: 100_000 }));
    server.answer(batchAnswer(taskXml({ Id: '1' }).repeat(1000)));
    const declared = await rejection(client.tasksFor(listSchedule));
    assert.ok(declared instanceof TransportError);
    assert.equal(declared.reason, 'too-large');
    assert.match(declared.message, /larger than 100000 bytes \(superoffice\.maxResponseBytes\)/);

    // Chunked, without a length: the client hangs up once the limit is passed instead of reading on.
    let written = 0;
    let hungUp = false;
    server.handle((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/xml' });
      res.on('close', () => (hungUp = !res.writableFinished));
      const chunk = `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>${'<a>x</a>'.repeat(4000)}`;
      const pump = () => {
        while (written < 50_000_000 && !res.destroyed) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    const streamed = await rejection(client.tasksFor(listSchedule));
    assert.ok(streamed instanceof TransportError && streamed.reason === 'too-large', String(streamed));
    await waitUntil(() => hungUp, 5000, 'the server to see the connection end before it finished');
    assert.ok(written < 50_000_000);
  });

  it('superoffice.timeout bounds the whole call: headers and part of the body in time, the rest never', async () => {
    server.handle((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/xml' });
      res.write(batchAnswer(taskXml({ Id: '1' })).slice(0, 200));
      // ...and nothing more.
    });
    const client = createSuperOfficeClient(soapConfig(server.url, { timeout: 400 }));
    const started = performance.now();
    const err = await rejection(client.tasksFor(listSchedule));
    assert.ok(err instanceof TransportError);
    assert.equal(err.reason, 'timeout');
    assert.match(err.message, /no complete answer .* within 400 ms \(superoffice\.timeout\)/);
    assert.ok(performance.now() - started < 3000, 'it gave up at the timeout');
  });
});

/**
 * A raw HTTP/1.1 server that answers the first request on each connection with keep-alive, and closes a
 * connection (reset, no answer) when another request arrives on it: what a client sees when the server closed
 * an idle kept-alive socket while the client was busy.
 */
async function startIdleClosingServer(options: { resetFreshFrom?: number } = {}) {
  let connections = 0;
  let resets = 0;
  const body = batchAnswer(taskXml({ Id: '1' }));
  const server = net.createServer((socket) => {
    connections += 1;
    const connection = connections;
    let served = 0;
    let buffer = '';
    socket.on('error', () => {});
    socket.on('data', (data) => {
      buffer += data.toString('latin1');
      const end = buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/content-length: *(\d+)/i.exec(buffer.slice(0, end))?.[1] ?? 0);
      if (buffer.length < end + 4 + length) return;
      buffer = buffer.slice(end + 4 + length);
      if (served > 0 || connection >= (options.resetFreshFrom ?? Infinity)) {
        resets += 1;
        socket.resetAndDestroy();
        return;
      }
      served += 1;
      socket.write(
        `HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: keep-alive\r\n\r\n${body}`,
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/Cust9`,
    get connections() {
      return connections;
    },
    get resets() {
      return resets;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('kept-alive sockets the server closed', () => {
  it('a request whose reused socket is reset is sent once more on a fresh socket', async () => {
    const server = await startIdleClosingServer();
    try {
      const client = createSuperOfficeClient(soapConfig(server.url));
      assert.equal((await client.tasksFor(listSchedule)).tasks.length, 1);
      assert.equal((await client.tasksFor(listSchedule)).tasks.length, 1, 'the second call succeeds');
      assert.equal(server.resets, 1, 'it went out on the kept-alive socket first');
      assert.equal(server.connections, 2, 'and once more on a fresh one');
    } finally {
      await server.close();
    }
  });

  it('a fresh socket that fails is a real failure (no retry)', async () => {
    const server = await startIdleClosingServer({ resetFreshFrom: 1 });
    try {
      const client = createSuperOfficeClient(soapConfig(server.url));
      const err = await rejection(client.tasksFor(listSchedule));
      assert.ok(err instanceof TransportError);
      assert.equal(err.reason, 'reset');
      assert.equal(server.connections, 1);
    } finally {
      await server.close();
    }
  });

  it('a retried request that fails again is a real failure (one retry only)', async () => {
    const server = await startIdleClosingServer({ resetFreshFrom: 2 });
    try {
      const client = createSuperOfficeClient(soapConfig(server.url));
      await client.tasksFor(listSchedule);
      const err = await rejection(client.tasksFor(listSchedule));
      assert.ok(err instanceof TransportError);
      assert.equal(err.reason, 'reset');
      assert.equal(server.resets, 2, 'the reused socket, then the fresh one');
      assert.equal(server.connections, 2, 'no third attempt');
    } finally {
      await server.close();
    }
  });
});

import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { HttpError } from '../src/http/http-error.ts';
import { readJsonBody, sendJson, sendStream, sendText } from '../src/http/respond.ts';
import { Router, type Route } from '../src/http/router.ts';
import { startHttpServer, type HttpServer } from '../src/http/server.ts';

/** The HTTP core: routing, errors, bounded bodies and socket limits (routes are the caller's). */

const routes: Route[] = [
  { method: 'GET', path: '/hello', handler: (ctx) => sendText(ctx, 200, `hello ${ctx.url.searchParams.get('who') ?? 'world'}\n`) },
  { method: 'GET', path: '/api/v1/silences/{id}', errors: 'json', handler: (ctx) => sendJson(ctx, 200, { id: ctx.params.id }) },
  { method: 'DELETE', path: '/api/v1/silences/{id}', errors: 'json', handler: (ctx) => sendJson(ctx, 200, { deleted: ctx.params.id }) },
  {
    method: 'POST',
    path: '/api/v1/silences',
    errors: 'json',
    handler: async (ctx) => {
      const body = await readJsonBody(ctx.req, 1024);
      if (typeof body !== 'object' || body === null || typeof (body as { comment?: unknown }).comment !== 'string') {
        throw new HttpError(400, 'comment must be a string', 'comment');
      }
      sendJson(ctx, 201, { received: body });
    },
  },
  {
    method: 'GET',
    path: '/stream',
    handler: (ctx) =>
      sendStream(ctx, 200, 'text/plain; charset=utf-8', async function* () {
        for (let i = 0; i < 50; i++) yield `${'x'.repeat(1000)}\n`;
      }),
  },
  {
    method: 'GET',
    path: '/boom',
    handler: () => {
      throw new Error('secret internal detail');
    },
  },
];

/** A raw TCP client: resolves with everything the server sent once it closes the connection. */
function rawExchange(port: number, send: string): { socket: Socket; closed: Promise<string> } {
  const socket = connect(port, '127.0.0.1');
  let received = '';
  socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
  const closed = new Promise<string>((resolve, reject) => {
    socket.on('close', () => resolve(received));
    socket.on('error', reject);
  });
  socket.write(send);
  return { socket, closed };
}

describe('HTTP server core', () => {
  let server: HttpServer;
  const logged: unknown[] = [];
  before(async () => {
    server = await startHttpServer({
      host: '127.0.0.1',
      port: 0,
      routes,
      log: (...args) => logged.push(args),
      limits: { headersTimeoutMs: 300, requestTimeoutMs: 600, keepAliveTimeoutMs: 200, maxRequestsPerSocket: 3 },
    });
  });
  after(() => server.close());

  it('routes by method and path, with path parameters decoded', async () => {
    assert.equal(await (await fetch(`${server.url}/hello?who=you`)).text(), 'hello you\n');
    assert.deepEqual(await (await fetch(`${server.url}/api/v1/silences/a%20b`)).json(), { id: 'a b' });
    assert.deepEqual(await (await fetch(`${server.url}/api/v1/silences/7`, { method: 'DELETE' })).json(), { deleted: '7' });
    assert.equal((await fetch(`${server.url}/api/v1/silences/`)).status, 404, 'an empty parameter does not match');
    assert.equal((await fetch(`${server.url}/api/v1/silences/7/x`)).status, 404);
  });

  it("answers HEAD with the GET route's headers and no body, 404 for unknown paths, 405 with Allow for other methods", async () => {
    const head = await fetch(`${server.url}/hello`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String('hello world\n'.length));
    assert.equal(await head.text(), '');
    assert.equal((await fetch(`${server.url}/nope`)).status, 404);
    const put = await fetch(`${server.url}/api/v1/silences/7`, { method: 'PUT' });
    assert.equal(put.status, 405);
    assert.equal(put.headers.get('allow'), 'GET, HEAD, DELETE');
    assert.deepEqual(await put.json(), { error: 'method not allowed' }, 'API routes answer errors in JSON');
    const post = await fetch(`${server.url}/hello`, { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
  });

  it('reads a JSON body within its limit; 400 names the field, 413 when too large, 415 when not JSON', async () => {
    const post = (body: string, type = 'application/json') =>
      fetch(`${server.url}/api/v1/silences`, { method: 'POST', headers: { 'Content-Type': type }, body });
    const ok = await post('{"comment":"deploy"}');
    assert.equal(ok.status, 201);
    assert.deepEqual(await ok.json(), { received: { comment: 'deploy' } });
    const bad = await post('{"comment":1}');
    assert.equal(bad.status, 400);
    assert.deepEqual(await bad.json(), { error: 'comment must be a string', field: 'comment' });
    const notJson = await post('{comment');
    assert.equal(notJson.status, 400);
    assert.match((await notJson.json()).error, /not valid JSON/);
    const big = await post(JSON.stringify({ comment: 'x'.repeat(5000) }));
    assert.equal(big.status, 413);
    assert.deepEqual(await big.json(), { error: 'request body larger than 1024 bytes' });
    assert.equal((await post('comment=x', 'application/x-www-form-urlencoded')).status, 415);
  });

  it('stops reading a body sent without Content-Length once it passes the limit', async () => {
    const { closed } = rawExchange(
      server.port,
      `POST /api/v1/silences HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n${'x'.repeat(0x800)}\r\n`,
    );
    const answer = await closed;
    assert.match(answer, /^HTTP\/1\.1 413 /);
  });

  it('streams a body in chunks', async () => {
    const res = await fetch(`${server.url}/stream`);
    assert.equal(res.headers.get('transfer-encoding'), 'chunked');
    assert.equal((await res.text()).length, 50 * 1001);
  });

  it('answers a failing handler with 500 without its message, logs it, and keeps serving', async () => {
    const res = await fetch(`${server.url}/boom`);
    assert.equal(res.status, 500);
    assert.equal(await res.text(), 'internal error\n');
    assert.match(JSON.stringify(logged), /secret internal detail/);
    assert.equal((await fetch(`${server.url}/hello`)).status, 200);
  });

  it('a request target that is not a path (absolute URL with a bad port, junk) is 400, logged at debug only', async () => {
    for (const target of ['http://x:99999/', 'http://[::1/', '//']) {
      const { socket, closed } = rawExchange(server.port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
      const answer = await closed;
      socket.destroy();
      assert.match(answer, /^HTTP\/1\.1 400 /, `${target}: ${answer}`);
      assert.match(answer, /request target is not a valid path or URL/);
    }
    const about = (level: string) => logged.filter((entry) => (entry as unknown[])[0] === level && JSON.stringify(entry).includes('99999'));
    assert.deepEqual(about('error'), [], 'not an error of the server');
    assert.equal(about('debug').length, 1, 'said at debug');
  });

  it('closes a connection that sends only half of its request headers (408)', async () => {
    const { closed } = rawExchange(server.port, 'GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    assert.match(await closed, /^HTTP\/1\.1 408 /);
  });

  it('closes a connection that sends nothing at all', async () => {
    const { closed } = rawExchange(server.port, '');
    await closed;
  });

  it('closes an idle keep-alive connection after its response', async () => {
    const { closed } = rawExchange(server.port, 'GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    const answer = await closed;
    assert.match(answer, /^HTTP\/1\.1 200 /);
    assert.match(answer, /hello world/);
  });

  it('closes a connection after maxRequestsPerSocket requests', async () => {
    const request = 'GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
    const { closed } = rawExchange(server.port, request.repeat(5));
    const answer = await closed;
    assert.equal(answer.match(/HTTP\/1\.1 200 /g)?.length, 3, answer);
    assert.match(answer, /HTTP\/1\.1 503 /, 'the requests beyond the limit are refused');
  });
});

describe('Router', () => {
  it('rejects two routes for one method and path, and malformed parameters', () => {
    const noop = () => undefined;
    assert.throws(
      () =>
        new Router([
          { method: 'GET', path: '/a/{x}', handler: noop },
          { method: 'GET', path: '/a/{y}', handler: noop },
        ]),
      /two routes/,
    );
    assert.throws(() => new Router([{ method: 'GET', path: '/a/{x', handler: noop }]), /malformed/);
    assert.throws(() => new Router([{ method: 'GET', path: 'a', handler: noop }]), /must start with/);
  });

  it('reports bad percent-encoding in a parameter as a 400 naming it', () => {
    const router = new Router([{ method: 'GET', path: '/s/{id}', handler: () => undefined }]);
    assert.throws(
      () => router.match('GET', '/s/%E0%A4%A'),
      (error: unknown) => error instanceof HttpError && error.status === 400 && error.field === 'id',
    );
  });
});

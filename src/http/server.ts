/**
 * The daemon's HTTP listener (node:http, no framework): routes come from the caller, this core only
 * dispatches, answers errors, and bounds what a client may hold: slow or idle sockets are closed.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { scrubSecrets } from '../redact/secrets.ts';
import { HttpError } from './http-error.ts';
import { JSON_TYPE, TEXT } from './respond.ts';
import { Router, type Route } from './router.ts';
import type { CallbackLevel } from '../log-levels.ts';

export type HttpLog = (level: CallbackLevel, msg: string, fields?: Record<string, unknown>) => void;

/** Socket limits; the defaults suit a Prometheus scraper and a browser. */
export interface HttpLimits {
  /** A client must send its complete request headers within this (slowloris). Default 10 s. */
  headersTimeoutMs: number;
  /** ... and its whole request, body included, within this. Default 30 s. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. Default 5 s. */
  keepAliveTimeoutMs: number;
  /** Requests served on one connection before it is closed. Default 1000. */
  maxRequestsPerSocket: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxRequestsPerSocket: 1000,
};

export interface HttpServerOptions {
  host: string;
  port: number;
  routes: readonly Route[];
  log?: HttpLog;
  limits?: Partial<HttpLimits>;
}

export interface HttpServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

function answerError(req: IncomingMessage, res: ServerResponse, error: HttpError, format: 'text' | 'json'): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // Error messages may quote what a request or an adapter said: scrubbed like every other answer (respond.ts).
  const body = scrubSecrets(
    format === 'json'
      ? `${JSON.stringify({ error: error.message, ...(error.field ? { field: error.field } : {}) })}\n`
      : `${error.message}\n`,
  );
  res.writeHead(error.status, {
    'Content-Type': format === 'json' ? JSON_TYPE : TEXT,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    ...error.headers,
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/**
 * The request target as a URL. One that cannot be parsed (an absolute URL with port 99999, "//", junk) is the
 * client's fault: 400, said at debug only, since any client can send one.
 */
function requestUrl(req: IncomingMessage, log: HttpLog): URL {
  try {
    return new URL(req.url ?? '/', 'http://localhost');
  } catch {
    log('debug', 'HTTP request target cannot be parsed', { target: (req.url ?? '').slice(0, 200) });
    throw new HttpError(400, 'request target is not a valid path or URL');
  }
}

export function startHttpServer(opts: HttpServerOptions): Promise<HttpServer> {
  const log = opts.log ?? (() => {});
  const limits = { ...DEFAULT_HTTP_LIMITS, ...opts.limits };
  const router = new Router(opts.routes);

  async function dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let errors: 'text' | 'json' = 'text';
    try {
      const url = requestUrl(req, log);
      const match = router.match(req.method ?? 'GET', url.pathname);
      if (match.kind === 'not-found') throw new HttpError(404, 'not found');
      if (match.kind === 'wrong-method') {
        errors = match.errors;
        throw new HttpError(405, 'method not allowed', undefined, { Allow: match.allow.join(', ') });
      }
      errors = match.route.errors ?? 'text';
      await match.route.handler({ req, res, url, params: match.params, head: req.method === 'HEAD' });
    } catch (error) {
      if (error instanceof HttpError) return answerError(req, res, error, errors);
      log('error', 'HTTP handler failed', { path: req.url, err: error instanceof Error ? error.message : String(error) });
      answerError(req, res, new HttpError(500, 'internal error'), errors);
    }
  }

  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // How often Node checks the two timeouts above (default 30 s would let a slow client stay far longer).
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
    },
    (req, res) => void dispatch(req, res),
  );
  server.maxRequestsPerSocket = limits.maxRequestsPerSocket;

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      const { port } = server.address() as AddressInfo;
      const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
      resolve({
        url: `http://${host}:${port}`,
        port,
        close: () =>
          new Promise<void>((done, fail) => {
            server.close((error) => (error ? fail(error) : done()));
            server.closeIdleConnections();
          }),
      });
    });
  });
}

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { ReadinessResult } from '../metrics/readiness.ts';
import { withTimeout } from '../metrics/timeout.ts';
import { scrubSecrets } from '../redact/secrets.ts';

export type HttpLog = (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

export interface HttpServerOptions {
  host: string;
  port: number;
  registry: Registry;
  readiness: () => Promise<ReadinessResult>;
  log?: HttpLog;
  /** Default 3s: a readiness check that takes longer answers 503. */
  readinessTimeoutMs?: number;
}

export interface HttpServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export const DEFAULT_READINESS_CHECK_TIMEOUT_MS = 3000;
const TEXT = 'text/plain; charset=utf-8';

/** Every answer goes through here, scrubbed of registered secrets (readiness reasons quote errors; labels quote SuperOffice). */
function send(req: IncomingMessage, res: ServerResponse, status: number, text: string, contentType = TEXT, headers: Record<string, string> = {}) {
  const body = scrubSecrets(text);
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store', ...headers });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** GET /metrics, /healthz, /readyz with node:http; no framework. */
export function startHttpServer(opts: HttpServerOptions): Promise<HttpServer> {
  const log = opts.log ?? (() => {});
  const readinessTimeoutMs = opts.readinessTimeoutMs ?? DEFAULT_READINESS_CHECK_TIMEOUT_MS;

  async function readiness(): Promise<ReadinessResult> {
    try {
      return await withTimeout(opts.readiness(), readinessTimeoutMs, 'readiness check');
    } catch (error) {
      return { ready: false, reasons: [error instanceof Error ? error.message : 'readiness check failed'] };
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(req, res, 405, 'method not allowed\n', TEXT, { Allow: 'GET, HEAD' });
      return;
    }
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    switch (path) {
      case '/metrics': {
        const body = await opts.registry.metrics();
        send(req, res, 200, body, opts.registry.contentType);
        return;
      }
      case '/healthz':
        send(req, res, 200, 'ok\n');
        return;
      case '/readyz': {
        const result = await readiness();
        const notes = (result.notes ?? []).map((n) => `- note: ${n}\n`).join('');
        if (result.ready) send(req, res, 200, `ready\n${notes}`);
        else send(req, res, 503, `not ready\n${result.reasons.map((r) => `- ${r}\n`).join('')}${notes}`);
        return;
      }
      default:
        send(req, res, 404, 'not found\n');
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      log('error', 'HTTP handler failed', { path: req.url, err: error instanceof Error ? error.message : String(error) });
      if (!res.headersSent) send(req, res, 500, 'internal error\n');
      else res.destroy();
    });
  });
  // Scrapers reuse connections; don't let an idle keep-alive socket hold up shutdown.
  server.keepAliveTimeout = 5000;

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

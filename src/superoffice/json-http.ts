/** JSON over HTTP(S) for SuperOffice Online's REST endpoints (system user login, tenant status): bounded in time and bytes, typed errors. */
import http from 'node:http';
import https from 'node:https';
import { z } from 'zod';
import { MalformedResponseError, TransportError } from './errors.ts';
import { describeUrl, TLS_CODE, tlsMessage } from './http-transport.ts';

export interface JsonResponse {
  status: number;
  /** The parsed body. */
  json: unknown;
}

export interface JsonRequest {
  method: 'GET' | 'POST';
  url: string;
  /** Sent as application/json when present. */
  body?: unknown;
  headers?: Record<string, string>;
  /** The whole exchange (connect, send, receive) must finish within this. */
  timeoutMs: number;
  /** Default 1 MiB: these answers are a few hundred bytes. */
  maxBytes?: number;
  /** Names the call in messages, e.g. "system user login". */
  what: string;
  /** PEM text of the CAs to trust besides the public ones (superoffice.tls.ca). */
  ca?: string;
}

const DEFAULT_MAX_BYTES = 1024 * 1024;

/**
 * Sends one request and parses the JSON answer, whatever the HTTP status (callers judge it).
 * Rejects with TransportError (refused, reset, timeout, TLS, too big) or MalformedResponseError (not JSON).
 */
export function requestJson(request: JsonRequest): Promise<JsonResponse> {
  const url = new URL(request.url);
  const target = describeUrl(url);
  const transport = url.protocol === 'https:' ? https : http;
  const payload = request.body === undefined ? undefined : JSON.stringify(request.body);
  const maxBytes = request.maxBytes ?? DEFAULT_MAX_BYTES;
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outcome();
    };
    const fail = (error: Error) =>
      finish(() => {
        req.destroy();
        reject(error);
      });
    const headers: Record<string, string> = { Accept: 'application/json', ...request.headers };
    if (payload !== undefined) {
      headers['Content-Type'] = 'application/json; charset=utf-8';
      headers['Content-Length'] = String(Buffer.byteLength(payload, 'utf8'));
    }
    const req = transport.request(url, {
      method: request.method,
      headers,
      ...(request.ca !== undefined && url.protocol === 'https:' ? { ca: request.ca } : {}),
    });
    const timer = setTimeout(
      () =>
        fail(
          new TransportError('timeout', `${request.what}: no answer from ${target} within ${request.timeoutMs} ms`, { code: 'ETIMEDOUT' }),
        ),
      request.timeoutMs,
    );
    req.on('error', (error: NodeJS.ErrnoException) => fail(networkError(error, request.what, url, target)));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) {
          fail(new TransportError('network', `${request.what}: the answer from ${target} exceeds ${maxBytes} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('error', (error: NodeJS.ErrnoException) => fail(networkError(error, request.what, url, target)));
      res.on('aborted', () => fail(new TransportError('reset', `${request.what}: connection to ${target} closed mid-answer`)));
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          const type = res.headers['content-type'] ?? 'no content type';
          const error =
            status >= 200 && status < 300
              ? new MalformedResponseError(
                  `${request.what}: the answer from ${target} is not JSON (HTTP ${status}, ${type}, ${text.length} chars)`,
                )
              : new TransportError('http-status', `${request.what}: HTTP ${status} from ${target} (${type})`, { status });
          finish(() => reject(error));
          return;
        }
        finish(() => resolve({ status, json }));
      });
    });
    req.end(payload);
  });
}

function networkError(error: NodeJS.ErrnoException, what: string, url: URL, target: string): TransportError {
  const code = error.code ?? '';
  const details = code ? { code } : {};
  if (code === 'ECONNREFUSED') return new TransportError('refused', `${what}: connection refused by ${target}`, details);
  if (code === 'ECONNRESET' || code === 'EPIPE' || error.message === 'socket hang up') {
    return new TransportError('reset', `${what}: connection to ${target} was closed without an answer`, details);
  }
  if (TLS_CODE.test(code)) return new TransportError('tls', `${what}: ${tlsMessage(code, error.message, url, target)}`, details);
  return new TransportError('network', `${what}: cannot reach ${target}: ${code || error.message}`, details);
}

/**
 * An object schema whose keys are matched without regard to case: SuperOffice's documentation writes `IsSuccessful`,
 * a JSON serializer may write `isSuccessful`. The shape's keys are written in lower case.
 */
export function caseInsensitiveObject<Shape extends z.ZodRawShape>(shape: Shape) {
  return z.preprocess(
    (value) =>
      value !== null && typeof value === 'object' && !Array.isArray(value)
        ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k.toLowerCase(), v]))
        : value,
    z.object(shape),
  );
}

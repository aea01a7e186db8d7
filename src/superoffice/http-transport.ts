import http from 'node:http';
import https from 'node:https';
import { TransportError } from './errors.ts';

export interface RawHttpResponse {
  status: number;
  contentType: string | undefined;
  body: string;
}

const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|SELF_SIGNED_|DEPTH_ZERO_|HOSTNAME_MISMATCH|EPROTO$)/;
const MAX_BODY_BYTES = 64 * 1024 * 1024;

/** Where a request went, for messages: scheme, host and path, never query strings or userinfo. */
export function describeUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/** POSTs XML and collects the whole response. Rejects only with TransportError; any HTTP status resolves. */
export function postXml(
  target: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<RawHttpResponse> {
  const url = new URL(target);
  const where = describeUrl(url);
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (err: TransportError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      reject(err);
    };
    const req = transport.request(url, {
      method: 'POST',
      headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body, 'utf8')) },
    });
    const timer = setTimeout(
      () => fail(new TransportError('timeout', `no answer from ${where} within ${timeoutMs} ms`, { code: 'ETIMEDOUT' })),
      timeoutMs,
    );
    req.on('error', (err: NodeJS.ErrnoException) => fail(networkError(err, where)));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) {
          fail(new TransportError('network', `response from ${where} exceeds ${MAX_BODY_BYTES} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('error', (err: NodeJS.ErrnoException) => fail(networkError(err, where)));
      res.on('aborted', () => fail(new TransportError('reset', `connection to ${where} closed mid-response`)));
      res.on('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({
          status: res.statusCode ?? 0,
          contentType: res.headers['content-type'],
          body: Buffer.concat(chunks).toString('utf8'),
        });
      });
    });
    req.end(body);
  });
}

function networkError(err: NodeJS.ErrnoException, where: string): TransportError {
  const code = err.code ?? '';
  const details = code ? { code } : {};
  if (code === 'ECONNREFUSED') return new TransportError('refused', `connection refused by ${where}`, details);
  if (code === 'ECONNRESET' || code === 'EPIPE' || err.message === 'socket hang up') {
    return new TransportError('reset', `connection to ${where} was closed without an answer`, details);
  }
  if (TLS_CODE.test(code)) return new TransportError('tls', `TLS failure talking to ${where}: ${err.message}`, details);
  return new TransportError('network', `cannot reach ${where}: ${code || err.message}`, details);
}

/**
 * HTTP for SOAP calls: one deadline for the whole call (connect, headers, body, parsing), a byte limit, the body
 * handed to a reader chunk by chunk as it arrives (with a turn of the event loop between chunks), one retry on a
 * fresh socket when a reused keep-alive socket turns out dead, and TLS with an optional private CA.
 */
import http from 'node:http';
import https from 'node:https';
import { TransportError } from './errors.ts';

export interface ResponseHead {
  status: number;
  contentType: string | undefined;
}

export interface RawHttpResponse extends ResponseHead {
  body: string;
}

/** Consumes one response body. `write` and `end` may throw (a SuperOfficeError) to end the call. */
export interface BodyReader<T> {
  write(chunk: Buffer): void;
  end(): T;
}

/** Keep-alive connections to one SuperOffice installation, and the CA to trust for it. */
export interface ConnectionPool {
  readonly agent: http.Agent;
  /** PEM text of extra trusted CAs (superoffice.tls.ca), for the fresh socket of a retry. */
  readonly ca?: string;
}

export function createConnectionPool(target: string, ca?: string): ConnectionPool {
  const secure = new URL(target).protocol === 'https:';
  // An idle pooled socket is closed after 4 s, before the usual 5 s keep-alive of servers (Node also honours a
  // shorter Keep-Alive: timeout= hint). A server may still close one first: see the retry in exchange().
  const options = { keepAlive: true, timeout: 4000, scheduling: 'lifo' as const };
  if (!secure) return { agent: new http.Agent(options) };
  return ca === undefined ? { agent: new https.Agent(options) } : { agent: new https.Agent({ ...options, ca }), ca };
}

export interface CallLimits {
  /** The whole call, from connecting to the last byte parsed (superoffice.timeout). */
  timeoutMs: number;
  /** Body size above which the call ends with an error (superoffice.maxResponseBytes). */
  maxResponseBytes: number;
}

/** Error codes of a failed TLS handshake or certificate check. */
export const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|SELF_SIGNED_|DEPTH_ZERO_|HOSTNAME_MISMATCH|EPROTO$)/;
/** Verification failures that a trusted private CA would fix. */
const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);

/** Where a request went, for messages: scheme, host and path, never query strings or userinfo. */
export function describeUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/** Collects the whole body as text (for small answers such as a login). */
export function textReader(head: ResponseHead): BodyReader<RawHttpResponse> {
  const chunks: Buffer[] = [];
  return {
    write: (chunk) => void chunks.push(chunk),
    end: () => ({ ...head, body: Buffer.concat(chunks).toString('utf8') }),
  };
}

/**
 * POSTs `body` and hands the response body to the reader made for its status line. Resolves with what the
 * reader's end() returns; rejects with TransportError, or with what the reader threw.
 */
export function exchange<T>(
  target: string,
  body: string,
  headers: Record<string, string>,
  limits: CallLimits,
  pool: ConnectionPool,
  makeReader: (head: ResponseHead) => BodyReader<T>,
): Promise<T> {
  const url = new URL(target);
  const where = describeUrl(url);
  const transport = url.protocol === 'https:' ? https : http;
  const payload = Buffer.from(body, 'utf8');
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let current: http.ClientRequest | null = null;
    const finish = (error: unknown, value?: T) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      current?.destroy();
      if (error === null) resolve(value as T);
      else reject(error);
    };
    const timer = setTimeout(
      () =>
        finish(
          new TransportError('timeout', `no complete answer from ${where} within ${limits.timeoutMs} ms (superoffice.timeout)`, {
            code: 'ETIMEDOUT',
          }),
        ),
      limits.timeoutMs,
    );

    const attempt = (fresh: boolean) => {
      const req = transport.request(url, {
        method: 'POST',
        headers: { ...headers, 'Content-Length': String(payload.length) },
        // A retry goes out on a socket of its own, never on another pooled one that may be just as dead.
        ...(fresh ? { agent: false, ...(pool.ca === undefined ? {} : { ca: pool.ca }) } : { agent: pool.agent }),
      });
      current = req;
      let answered = false;
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (settled || current !== req) return;
        // The server closed a kept-alive socket while we were busy (seen as a reset when it is reused): that
        // request never reached it, so it is sent once more on a fresh socket.
        if (!fresh && !answered && req.reusedSocket && isConnectionDrop(err)) {
          attempt(true);
          return;
        }
        finish(networkError(err, url, where));
      });
      req.on('response', (res) => {
        answered = true;
        const head: ResponseHead = { status: res.statusCode ?? 0, contentType: res.headers['content-type'] };
        const declared = Number(res.headers['content-length']);
        if (Number.isFinite(declared) && declared > limits.maxResponseBytes) {
          finish(tooLarge(where, limits.maxResponseBytes));
          return;
        }
        let reader: BodyReader<T>;
        try {
          reader = makeReader(head);
        } catch (error) {
          finish(error);
          return;
        }
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          if (settled) return;
          size += chunk.length;
          if (size > limits.maxResponseBytes) {
            finish(tooLarge(where, limits.maxResponseBytes));
            return;
          }
          try {
            reader.write(chunk);
          } catch (error) {
            finish(error);
            return;
          }
          // Parsing a chunk takes a while on big answers: let timers, /healthz, /metrics and signals in between.
          res.pause();
          setImmediate(() => {
            if (!settled) res.resume();
          });
        });
        res.on('error', (err: NodeJS.ErrnoException) => finish(networkError(err, url, where)));
        res.on('close', () => {
          if (!res.complete) finish(new TransportError('reset', `connection to ${where} closed mid-response`));
        });
        res.on('end', () => {
          if (settled) return;
          let value: T;
          try {
            value = reader.end();
          } catch (error) {
            finish(error);
            return;
          }
          finish(null, value);
        });
      });
      req.end(payload);
    };
    attempt(false);
  });
}

function isConnectionDrop(err: NodeJS.ErrnoException): boolean {
  return err.code === 'ECONNRESET' || err.code === 'EPIPE' || err.code === 'ECONNABORTED' || err.message === 'socket hang up';
}

function tooLarge(where: string, max: number): TransportError {
  return new TransportError(
    'too-large',
    `the answer from ${where} is larger than ${max} bytes (superoffice.maxResponseBytes); raise superoffice.maxResponseBytes if the tenant really has that many tasks`,
  );
}

function networkError(err: NodeJS.ErrnoException, url: URL, where: string): TransportError {
  const code = err.code ?? '';
  const details = code ? { code } : {};
  if (code === 'ECONNREFUSED') return new TransportError('refused', `connection refused by ${where}`, details);
  if (isConnectionDrop(err)) return new TransportError('reset', `connection to ${where} was closed without an answer`, details);
  if (TLS_CODE.test(code)) return new TransportError('tls', tlsMessage(code, err.message, url, where), details);
  return new TransportError('network', `cannot reach ${where}: ${code || err.message}`, details);
}

/** A TLS failure in operator words: an untrusted certificate names superoffice.tls.ca (and NODE_EXTRA_CA_CERTS). */
export function tlsMessage(code: string, message: string, url: URL, where: string): string {
  const host = url.hostname;
  if (UNTRUSTED.has(code)) {
    return (
      `TLS: the certificate of ${host} is not trusted (${code}: ${message}); if it is issued by a private CA, ` +
      `set superoffice.tls.ca to that CA's PEM file (or NODE_EXTRA_CA_CERTS for the whole process)`
    );
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `TLS: the certificate of ${host} is not valid for that name (${message})`;
  if (code === 'CERT_HAS_EXPIRED') return `TLS: the certificate of ${host} has expired (${message})`;
  return `TLS failure talking to ${where}: ${message}`;
}

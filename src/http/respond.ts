/** Writing answers and reading request bodies for route handlers: text, JSON, streamed bodies, bounded JSON bodies. */
import type { IncomingMessage } from 'node:http';
import { scrubSecrets } from '../redact/secrets.ts';
import { HttpError } from './http-error.ts';
import type { RequestContext } from './router.ts';

export const TEXT = 'text/plain; charset=utf-8';
export const JSON_TYPE = 'application/json; charset=utf-8';
/** Default limit of a JSON request body (a silence or an acknowledgement is a few hundred bytes). */
export const DEFAULT_BODY_LIMIT_BYTES = 64 * 1024;

type Headers = Readonly<Record<string, string>>;

export function sendText(ctx: RequestContext, status: number, body: string, headers: Headers = {}): void {
  send(ctx, status, body, { 'Content-Type': TEXT, ...headers });
}

export function sendJson(ctx: RequestContext, status: number, value: unknown, headers: Headers = {}): void {
  send(ctx, status, `${JSON.stringify(value)}\n`, { 'Content-Type': JSON_TYPE, ...headers });
}

/**
 * A complete body with Content-Length (HEAD: headers only). `headers` must include Content-Type. Every
 * complete answer is scrubbed of registered secrets here, so no route (readiness quotes errors, the API and
 * the status page quote SuperOffice text) can forget it.
 */
export function send(ctx: RequestContext, status: number, text: string, headers: Headers): void {
  const body = scrubSecrets(text);
  ctx.res.writeHead(status, { 'Cache-Control': 'no-store', ...headers, 'Content-Length': Buffer.byteLength(body) });
  ctx.res.end(ctx.head ? undefined : body);
}

/**
 * A body produced piece by piece (chunked transfer): each piece is written as it comes, waiting while
 * the client reads slowly, so a big answer never sits in memory whole. HEAD: headers only, nothing produced.
 */
export async function sendStream(
  ctx: RequestContext,
  status: number,
  contentType: string,
  pieces: () => AsyncIterable<string>,
): Promise<void> {
  const { res } = ctx;
  res.writeHead(status, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
  if (ctx.head) {
    res.end();
    return;
  }
  for await (const piece of pieces()) {
    if (res.destroyed) return;
    if (!res.write(piece)) await drained(res);
  }
  res.end();
}

function drained(res: RequestContext['res']): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/**
 * Reads a JSON request body of at most `limitBytes`: 415 unless it is sent as application/json, 413 when
 * larger (announced or actual), 400 when it is not JSON. Validate the value at the call site (zod).
 */
export async function readJsonBody(req: IncomingMessage, limitBytes = DEFAULT_BODY_LIMIT_BYTES): Promise<unknown> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') throw new HttpError(415, 'send the request body as Content-Type: application/json');
  const announced = Number(req.headers['content-length']);
  // Connection: close, so the unread rest of an oversized body is not taken for the next request.
  const tooLarge = new HttpError(413, `request body larger than ${limitBytes} bytes`, undefined, { Connection: 'close' });
  if (Number.isFinite(announced) && announced > limitBytes) throw tooLarge;
  const chunks: Buffer[] = [];
  let size = 0;
  // The socket must survive an early stop: the 413 still has to be written to it.
  for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limitBytes) throw tooLarge;
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new HttpError(400, `request body is not valid JSON: ${(error as Error).message}`);
  }
}

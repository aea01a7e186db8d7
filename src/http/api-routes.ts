/** The JSON API routes of silences and acknowledgements (/api/v1/alerts, /api/v1/silences, /api/v1/acks) on the daemon's listener. */
import { scrubSecrets } from '../redact/secrets.ts';
import { ApiError, type ApiAnswer, type SilenceApi } from '../silence/api.ts';
import { HttpError } from './http-error.ts';
import { JSON_TYPE, readJsonBody, send } from './respond.ts';
import type { RequestContext, Route } from './router.ts';

type ApiLog = (level: 'warn', msg: string, fields?: Record<string, unknown>) => void;

export function silenceApiRoutes(api: SilenceApi, log: ApiLog = () => {}): Route[] {
  /** Runs one operation and writes its answer; what goes out (answer or error) is scrubbed of secrets. */
  const answer = async (ctx: RequestContext, operation: () => Promise<ApiAnswer>): Promise<void> => {
    let result: ApiAnswer;
    try {
      result = await operation();
    } catch (error) {
      if (error instanceof HttpError) throw new HttpError(error.status, scrubSecrets(error.message), error.field, error.headers);
      if (error instanceof ApiError) throw new HttpError(error.status, error.message, error.field, error.headers);
      // Anything else is Redis (down, read-only, a failover): say so, and that nothing was changed by a failed write.
      const message = scrubSecrets(error instanceof Error ? error.message : String(error));
      log('warn', 'silences API: Redis error', { path: ctx.url.pathname, err: message });
      throw new HttpError(503, `silences and acknowledgements are kept in Redis, which did not answer: ${message}`);
    }
    send(ctx, result.status, `${scrubSecrets(JSON.stringify(result.body))}\n`, { 'Content-Type': JSON_TYPE });
  };
  /** Writes: the token first (an unauthorized client's body is never read), then the body. */
  const authorized = (ctx: RequestContext) => api.authorize(ctx.req.headers.authorization);

  return [
    { method: 'GET', path: '/api/v1/alerts', errors: 'json', handler: (ctx) => answer(ctx, () => api.alerts()) },
    { method: 'GET', path: '/api/v1/silences', errors: 'json', handler: (ctx) => answer(ctx, () => api.silences()) },
    {
      method: 'POST',
      path: '/api/v1/silences',
      errors: 'json',
      handler: (ctx) =>
        answer(ctx, async () => {
          authorized(ctx);
          return api.createSilence(await readJsonBody(ctx.req));
        }),
    },
    {
      method: 'DELETE',
      path: '/api/v1/silences/{id}',
      errors: 'json',
      handler: (ctx) =>
        answer(ctx, async () => {
          authorized(ctx);
          return api.expireSilence(ctx.params.id!, ctx.url.searchParams.get('author') ?? undefined);
        }),
    },
    {
      method: 'POST',
      path: '/api/v1/acks',
      errors: 'json',
      handler: (ctx) =>
        answer(ctx, async () => {
          authorized(ctx);
          return api.acknowledge(await readJsonBody(ctx.req));
        }),
    },
  ];
}

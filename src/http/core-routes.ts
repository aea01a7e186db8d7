/** The routes every daemon serves: GET /metrics (streamed), /healthz and /readyz. */
import type { ReadinessResult } from '../metrics/readiness.ts';
import { withTimeout } from '../metrics/timeout.ts';
import { sendStream, sendText } from './respond.ts';
import type { Route } from './router.ts';

export const DEFAULT_READINESS_CHECK_TIMEOUT_MS = 3000;

export interface MetricsSource {
  contentType: string;
  pieces(): AsyncIterable<string>;
}

export function metricsRoute(metrics: MetricsSource): Route {
  return {
    method: 'GET',
    path: '/metrics',
    handler: (ctx) => sendStream(ctx, 200, metrics.contentType, () => metrics.pieces()),
  };
}

export interface HealthOptions {
  readiness: () => Promise<ReadinessResult>;
  /** Default 3s: a readiness check that takes longer answers 503. */
  readinessTimeoutMs?: number;
}

export function healthRoutes(opts: HealthOptions): Route[] {
  const timeoutMs = opts.readinessTimeoutMs ?? DEFAULT_READINESS_CHECK_TIMEOUT_MS;
  async function readiness(): Promise<ReadinessResult> {
    try {
      return await withTimeout(opts.readiness(), timeoutMs, 'readiness check');
    } catch (error) {
      return { ready: false, reasons: [error instanceof Error ? error.message : 'readiness check failed'] };
    }
  }
  return [
    { method: 'GET', path: '/healthz', handler: (ctx) => sendText(ctx, 200, 'ok\n') },
    {
      method: 'GET',
      path: '/readyz',
      handler: async (ctx) => {
        const result = await readiness();
        const notes = (result.notes ?? []).map((n) => `- note: ${n}\n`).join('');
        if (result.ready) sendText(ctx, 200, `ready\n${notes}`);
        else sendText(ctx, 503, `not ready\n${result.reasons.map((r) => `- ${r}\n`).join('')}${notes}`);
      },
    },
  ];
}

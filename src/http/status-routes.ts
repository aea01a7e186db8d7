/**
 * The status page's routes: GET / (the page), /status/fragment (what /status.js swaps in), /status.css,
 * /status.js, /favicon.svg, and GET /api/v1/status (the same data as JSON). All read-only and open like
 * /metrics (product.md: only the API's writes need http.adminToken). Every answer carries a strict CSP.
 */
import { readFileSync } from 'node:fs';
import {
  renderFragment,
  renderPage,
  DEFAULT_REFRESH_SECONDS,
  MAX_REFRESH_SECONDS,
  MIN_REFRESH_SECONDS,
  STATUS_FRAGMENT_PATH,
} from '../status/render.ts';
import { statusJson } from '../status/json.ts';
import type { StatusView } from '../status/model.ts';
import { HttpError } from './http-error.ts';
import { JSON_TYPE, send } from './respond.ts';
import type { RequestContext, Route } from './router.ts';

export const HTML_TYPE = 'text/html; charset=utf-8';

/** No inline script or style, nothing from elsewhere, no framing, no forms. */
export const STATUS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': STATUS_CSP,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};

export interface StatusSource {
  view(): Promise<StatusView>;
}

interface Asset {
  path: string;
  type: string;
  body: string;
}

const ASSETS_DIR = new URL('../status/assets/', import.meta.url);
const asset = (path: string, file: string, type: string): Asset => ({ path, type, body: readFileSync(new URL(file, ASSETS_DIR), 'utf8') });

/** Read once, at start-up: a missing file fails the start, not a request. */
function loadAssets(): Asset[] {
  return [
    asset('/status.css', 'status.css', 'text/css; charset=utf-8'),
    asset('/status.js', 'status.js', 'text/javascript; charset=utf-8'),
    asset('/favicon.svg', 'favicon.svg', 'image/svg+xml'),
  ];
}

/** `?refresh=N` (seconds) for a wall screen that wants another pace; absent: the default. */
export function refreshSeconds(url: URL): number {
  const raw = url.searchParams.get('refresh');
  if (raw === null) return DEFAULT_REFRESH_SECONDS;
  const seconds = Number(raw);
  if (!/^\d+$/.test(raw) || seconds < MIN_REFRESH_SECONDS || seconds > MAX_REFRESH_SECONDS) {
    throw new HttpError(400, `refresh must be a whole number of seconds from ${MIN_REFRESH_SECONDS} to ${MAX_REFRESH_SECONDS}`, 'refresh');
  }
  return seconds;
}

export function statusRoutes(source: StatusSource): Route[] {
  const html = (ctx: RequestContext, body: string) => send(ctx, 200, body, { 'Content-Type': HTML_TYPE, ...SECURITY_HEADERS });
  const assets = loadAssets().map(
    (a): Route => ({
      method: 'GET',
      path: a.path,
      handler: (ctx) => send(ctx, 200, a.body, { 'Content-Type': a.type, ...SECURITY_HEADERS, 'Cache-Control': 'no-cache' }),
    }),
  );
  return [
    {
      method: 'GET',
      path: '/',
      handler: async (ctx) => {
        const seconds = refreshSeconds(ctx.url);
        html(ctx, renderPage(await source.view(), seconds).text);
      },
    },
    { method: 'GET', path: STATUS_FRAGMENT_PATH, handler: async (ctx) => html(ctx, renderFragment(await source.view()).text) },
    ...assets,
    {
      method: 'GET',
      path: '/api/v1/status',
      errors: 'json',
      handler: async (ctx) =>
        send(ctx, 200, `${JSON.stringify(statusJson(await source.view()))}\n`, { 'Content-Type': JSON_TYPE, ...SECURITY_HEADERS }),
    },
  ];
}

/** SuperOffice Online's tenant status service: GET {tenantStatusUrl}/{ContextIdentifier}, cached until ValidUntil. */
import { z } from 'zod';
import type { SuperOfficeConfig } from '../config/types.ts';
import { contextIdentifierOf } from '../config/tenant.ts';
import { MalformedResponseError, TransportError } from './errors.ts';
import { oneLine } from '../core/text.ts';
import { describeUrl } from './http-transport.ts';
import { caseInsensitiveObject, requestJson } from './json-http.ts';
import { superofficeCa } from './trust.ts';

export interface TenantState {
  contextIdentifier: string;
  /** As the service said it (Running, OnlineMaintenance, OfflineMaintenance, Suspended, MigrationPending, ...), cleaned. */
  state: string;
  /** State is Running: anything else makes a failed poll planned maintenance. */
  running: boolean;
  /** How long this answer may be used (ms), when the service said. */
  validUntil: number | null;
}

export interface TenantStatusOptions {
  /** superoffice.tenantStatusUrl, without trailing slash. */
  statusUrl: string;
  contextIdentifier: string;
  timeoutMs: number;
  now?: () => number;
  /** Default 5 min: an answer is reused until its ValidUntil, but never longer than this. */
  maxCacheMs?: number;
  /** PEM text of the CAs to trust besides the public ones (superoffice.tls.ca). */
  ca?: string;
}

export const DEFAULT_TENANT_STATE_MAX_CACHE_MS = 5 * 60 * 1000;
const MAX_STATE_LENGTH = 64;

const answerShape = caseInsensitiveObject({
  contextidentifier: z.string().nullish(),
  state: z.string().refine((s) => s.trim() !== '', 'State is empty'),
  validuntil: z.string().nullish(),
});

/** A state name fit for logs, metrics' neighbours and the status page: no control characters, bounded. */
function cleanState(state: string): string {
  const flat = oneLine(state);
  return flat.length > MAX_STATE_LENGTH ? `${flat.slice(0, MAX_STATE_LENGTH)}...` : flat;
}

/** One tenant's state; concurrent askers share one request, answers are cached until ValidUntil (bounded). */
export class TenantStatus {
  private cached: { value: TenantState; until: number } | null = null;
  private pending: Promise<TenantState> | null = null;
  private readonly now: () => number;

  constructor(private readonly options: TenantStatusOptions) {
    this.now = options.now ?? Date.now;
  }

  get contextIdentifier(): string {
    return this.options.contextIdentifier;
  }

  get url(): string {
    return `${this.options.statusUrl}/${encodeURIComponent(this.options.contextIdentifier)}`;
  }

  /** The tenant's state. Rejects with TransportError or MalformedResponseError: the state is then unknown. */
  current(): Promise<TenantState> {
    const now = this.now();
    if (this.cached && now < this.cached.until) return Promise.resolve(this.cached.value);
    if (this.pending) return this.pending;
    const pending = this.fetch();
    this.pending = pending;
    const clear = () => {
      if (this.pending === pending) this.pending = null;
    };
    pending.then(clear, clear);
    return pending;
  }

  private async fetch(): Promise<TenantState> {
    const { timeoutMs, ca } = this.options;
    const response = await requestJson({
      method: 'GET',
      url: this.url,
      timeoutMs,
      what: 'tenant status',
      ...(ca !== undefined ? { ca } : {}),
    });
    if (response.status < 200 || response.status >= 300) {
      throw new TransportError('http-status', `tenant status: HTTP ${response.status} from ${this.describe()}`, {
        status: response.status,
      });
    }
    const answer = answerShape.safeParse(response.json);
    if (!answer.success) {
      throw new MalformedResponseError(
        `tenant status: unexpected answer from ${this.describe()} (expected ContextIdentifier, State, ValidUntil)`,
      );
    }
    const { contextidentifier, state, validuntil } = answer.data;
    const ours = this.options.contextIdentifier;
    if (contextidentifier && contextidentifier.toLowerCase() !== ours.toLowerCase()) {
      throw new MalformedResponseError(`tenant status: ${this.describe()} answered for another tenant (expected ${ours})`);
    }
    const parsedUntil = validuntil ? Date.parse(validuntil) : NaN;
    const validUntil = Number.isFinite(parsedUntil) ? parsedUntil : null;
    const cleaned = cleanState(state);
    const value: TenantState = { contextIdentifier: ours, state: cleaned, running: cleaned.toLowerCase() === 'running', validUntil };
    const now = this.now();
    const maxCache = this.options.maxCacheMs ?? DEFAULT_TENANT_STATE_MAX_CACHE_MS;
    this.cached = validUntil === null ? null : { value, until: Math.min(validUntil, now + maxCache) };
    return value;
  }

  private describe(): string {
    return describeUrl(new URL(this.url));
  }
}

/** The tenant status service the config asks for (superoffice.tenantStatusUrl), or null when it is not set. */
export function tenantStatusFor(config: SuperOfficeConfig, now?: () => number): TenantStatus | null {
  if (!config.tenantStatusUrl) return null;
  const contextIdentifier = contextIdentifierOf(config.url);
  if (!contextIdentifier) return null; // the config check requires one with tenantStatusUrl
  const ca = superofficeCa(config);
  return new TenantStatus({
    statusUrl: config.tenantStatusUrl,
    contextIdentifier,
    timeoutMs: config.timeout,
    ...(now ? { now } : {}),
    ...(ca !== undefined ? { ca } : {}),
  });
}

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SuperOfficeConfig } from '../config/types.ts';
import type { PollErrorKind } from '../core/model.ts';
import type { BatchTaskInfo } from '../core/task.ts';
import { batchTaskInfoParser, TaskFieldError } from './batch-task-info.ts';
import { assertTimeZone } from './dates.ts';
import { SO_NS } from './envelope.ts';
import { AuthError, MalformedResponseError, SuperOfficeError } from './errors.ts';
import { Limiter } from './limiter.ts';
import { looksLikeTicketProblem, readResponse, type Redact, type Refusal } from './response.ts';
import { SoapOperation } from './soap-operation.ts';
import type { SystemUserSession } from './system-user-login.ts';
import { SystemUserTickets } from './system-user-tickets.ts';
import { TicketCache } from './ticket-cache.ts';
import { scrubSecrets } from '../redact/secrets.ts';
import { childElement, escapeXml, textOrNull } from './xml.ts';

export interface SuperOfficeClient {
  /** All tasks of these associates: chunks of associatesPerRequest, <= maxConcurrentRequests calls in flight
   *  across the whole client (shared limiter), per-call timeout. Throws SuperOfficeError. */
  getBatchTaskInfosByAssociates(associateIds: readonly number[]): Promise<BatchTaskInfo[]>;
  /** Makes sure a ticket is available (logs in when configured with username/password or systemUser). For `check`. */
  authenticate(): Promise<AuthenticationInfo>;
}

/** How the client got its ticket, for `check`. Never holds a secret. */
export interface AuthenticationInfo {
  method: 'ticket' | 'username' | 'system-user';
  /** The latest system user login (method system-user). */
  systemUser?: Omit<SystemUserSession, 'ticket'>;
}

export type ClientLog = (level: 'debug' | 'info' | 'warn', msg: string, fields?: Record<string, unknown>) => void;

export interface SuperOfficeClientOptions {
  /** Called once per SOAP call that finally failed (after the one re-authentication retry), for metrics. */
  onCallError?: (kind: PollErrorKind) => void;
  log?: ClientLog;
  /** Override WSDL files (e.g. SuperOffice's published ones); the project's own are used by default. */
  batchWsdl?: string;
  principalWsdl?: string;
  /** Clock for the system user login (signed timestamp, JWT exp) and its re-login guard. */
  now?: () => number;
  /**
   * Default 5 min: a system user ticket that SuperOffice refuses before any call succeeded with it is not
   * replaced by another login sooner than this after the last one (each login adds a credentials row).
   */
  reloginCooldownMs?: number;
}

const WSDL_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'wsdl');
export const DEFAULT_BATCH_WSDL = path.join(WSDL_DIR, 'Batch.wsdl');
export const DEFAULT_PRINCIPAL_WSDL = path.join(WSDL_DIR, 'SoPrincipal.wsdl');

export function createSuperOfficeClient(config: SuperOfficeConfig, options: SuperOfficeClientOptions = {}): SuperOfficeClient {
  return new SoapSuperOfficeClient(config, options);
}

interface PollState {
  failed: boolean;
}

/** A chunk not sent because another chunk of the same poll already failed. */
class ChunkCancelled extends Error {}

class SoapSuperOfficeClient implements SuperOfficeClient {
  private readonly batch: SoapOperation;
  private readonly principal: SoapOperation;
  private readonly limiter: Limiter;
  private readonly tickets: TicketCache;
  private readonly parseTasks: ReturnType<typeof batchTaskInfoParser>;
  private readonly redact: Redact;
  private readonly log: ClientLog;
  private readonly systemUser: SystemUserTickets | null = null;

  constructor(
    private readonly config: SuperOfficeConfig,
    private readonly options: SuperOfficeClientOptions,
  ) {
    assertTimeZone(config.timeZone);
    const base = `${config.url.replace(/\/+$/, '')}/Remote/Services85`;
    this.batch = new SoapOperation(options.batchWsdl ?? DEFAULT_BATCH_WSDL, `${base}/Batch.svc`, 'GetBatchTaskInfosByAssociates');
    this.principal = new SoapOperation(
      options.principalWsdl ?? DEFAULT_PRINCIPAL_WSDL,
      `${base}/SoPrincipal.svc`,
      'AuthenticateUsernamePassword',
    );
    this.limiter = new Limiter(config.maxConcurrentRequests);
    this.parseTasks = batchTaskInfoParser(config.timeZone);
    this.log = options.log ?? (() => {});
    const now = options.now ?? Date.now;
    const { username, password, systemUser } = config;
    let login: (() => Promise<string>) | null = null;
    if (systemUser) {
      const cooldown = options.reloginCooldownMs;
      const tickets = new SystemUserTickets({ ...config, systemUser }, { now, log: this.log, ...(cooldown !== undefined ? { reloginCooldownMs: cooldown } : {}) });
      this.systemUser = tickets;
      login = () => tickets.newTicket();
    } else if (username !== undefined && password !== undefined) {
      login = () => this.login(username, password);
    }
    this.tickets = new TicketCache(config.ticket ?? null, login, now);
    const configured = [config.ticket, config.password, config.applicationToken];
    this.redact = (text) =>
      scrubSecrets(
        [...configured, ...this.tickets.secrets()]
          .filter((s): s is string => typeof s === 'string' && s.length >= 3)
          .reduce((t, secret) => t.split(secret).join('[redacted]'), text),
      );
  }

  async getBatchTaskInfosByAssociates(associateIds: readonly number[]): Promise<BatchTaskInfo[]> {
    const ids = [...new Set(associateIds)];
    const size = this.config.associatesPerRequest;
    const chunks: number[][] = [];
    for (let i = 0; i < ids.length; i += size) chunks.push(ids.slice(i, i + size));
    const poll: PollState = { failed: false };
    const results = await Promise.allSettled(
      chunks.map(async (chunk) => {
        try {
          return await this.tasksOf(chunk, poll);
        } catch (err) {
          if (err instanceof ChunkCancelled) return [];
          poll.failed = true;
          throw this.reportError(err);
        }
      }),
    );
    const rejected = results.find((r) => r.status === 'rejected');
    if (rejected) throw rejected.reason;
    return results.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
  }

  async authenticate(): Promise<AuthenticationInfo> {
    try {
      await this.tickets.get();
    } catch (err) {
      throw this.reportError(err);
    }
    if (this.systemUser) {
      const session = this.systemUser.lastSession();
      return session ? { method: 'system-user', systemUser: session } : { method: 'system-user' };
    }
    return { method: this.config.ticket ? 'ticket' : 'username' };
  }

  private reportError(err: unknown): SuperOfficeError {
    const error =
      err instanceof SuperOfficeError
        ? err
        : new SuperOfficeError('internal', `unexpected: ${this.redact(err instanceof Error ? err.message : String(err))}`);
    this.options.onCallError?.(error.kind);
    return error;
  }

  /** One GetBatchTaskInfosByAssociates call; on a refusal, one fresh ticket and one retry. */
  private async tasksOf(associateIds: number[], poll: PollState): Promise<BatchTaskInfo[]> {
    const ticket = await this.tickets.get();
    const first = await this.callBatch(associateIds, ticket, poll);
    if (first.ok) {
      this.tickets.accepted(ticket);
      return first.tasks;
    }
    const refusal = first.refusal;
    if (!this.tickets.canAuthenticate) {
      if (looksLikeTicketProblem(refusal)) {
        throw new AuthError(
          `SuperOffice refused the configured ticket (superoffice.ticket has expired or is invalid; renew it or configure username/password): ${refusal.message}`,
        );
      }
      throw refusal;
    }
    this.systemUser?.assertReloginAllowed(ticket, refusal, this.tickets);
    this.log('warn', 'SuperOffice refused a call; authenticating again and retrying once', {
      operation: 'GetBatchTaskInfosByAssociates',
      kind: refusal.kind,
      error: refusal.message,
    });
    this.tickets.invalidate(ticket);
    const fresh = await this.tickets.get();
    const retry = await this.callBatch(associateIds, fresh, poll);
    if (retry.ok) {
      this.tickets.accepted(fresh);
      return retry.tasks;
    }
    throw retry.refusal;
  }

  private async callBatch(
    associateIds: number[],
    ticket: string,
    poll: PollState,
  ): Promise<{ ok: true; tasks: BatchTaskInfo[] } | { ok: false; refusal: Refusal }> {
    const headers = [`<Credentials xmlns="${SO_NS}"><Ticket>${escapeXml(ticket)}</Ticket></Credentials>`];
    if (this.config.applicationToken) headers.unshift(this.applicationTokenHeader(this.config.applicationToken));
    return this.limiter.run(async () => {
      // A poll is all or nothing: once one chunk failed, chunks still waiting are not sent.
      if (poll.failed) throw new ChunkCancelled();
      const started = Date.now();
      try {
        const res = await this.batch.call({ AssociateIds: { int: associateIds } }, headers, this.config.timeout);
        this.log('debug', 'GetBatchTaskInfosByAssociates', { associates: associateIds.length, status: res.status, ms: Date.now() - started });
        const read = readResponse(res, 'GetBatchTaskInfosByAssociatesResponse', 'GetBatchTaskInfosByAssociates', this.redact);
        if (!read.ok) return read;
        return { ok: true as const, tasks: this.parseTasks(read.element) };
      } catch (err) {
        // Marked before the slot is handed to the next waiting chunk.
        poll.failed = true;
        if (err instanceof TaskFieldError) throw new MalformedResponseError(`GetBatchTaskInfosByAssociates: ${err.message}`);
        throw err;
      }
    });
  }

  private applicationTokenHeader(token: string): string {
    return `<ApplicationToken xmlns="${SO_NS}">${escapeXml(token)}</ApplicationToken>`;
  }

  private async login(username: string, password: string): Promise<string> {
    const headers = this.config.applicationToken ? [this.applicationTokenHeader(this.config.applicationToken)] : [];
    const res = await this.limiter.run(() =>
      this.principal.call({ UserName: username, Password: password }, headers, this.config.timeout),
    );
    const read = readResponse(res, 'AuthenticateResponse', 'AuthenticateUsernamePassword', this.redact);
    if (!read.ok) {
      throw new AuthError(`SuperOffice refused authentication for user ${username}: ${read.refusal.message}`);
    }
    const succeeded = textOrNull(childElement(read.element, 'AuthenticationSucceeded'))?.trim().toLowerCase();
    if (succeeded !== 'true' && succeeded !== '1') {
      throw new AuthError(`SuperOffice rejected username/password for user ${username}`);
    }
    const credentials = childElement(read.element, 'Credentials');
    const ticket = credentials ? textOrNull(childElement(credentials, 'Ticket'))?.trim() : undefined;
    if (!ticket) {
      throw new MalformedResponseError('AuthenticateUsernamePassword: AuthenticationSucceeded without a ticket');
    }
    this.log('info', 'authenticated against SuperOffice', { user: username });
    return ticket;
  }
}

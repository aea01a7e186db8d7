/** The SuperOffice client a poll uses: the batch tasks of a schedule's associates; a refused call gets one fresh ticket and one retry. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ScheduleConfig, SuperOfficeConfig } from '../config/types.ts';
import type { PollErrorKind, UnreadableTask } from '../core/model.ts';
import { SYSTEM_ASSOCIATE_ID, type BatchTaskInfo } from '../core/task.ts';
import { DEFAULT_MAX_RESPONSE_BYTES } from '../config/schema.ts';
import { batchCallReader, describeProblem, type BatchCallResult, type BatchOperation } from './batch-call.ts';
import type { ListedProblem } from './batch-response.ts';
import { assertTimeZone } from './dates.ts';
import { SO_NS } from './envelope.ts';
import { AuthError, MalformedResponseError, SuperOfficeError } from './errors.ts';
import type { CallbackLevel } from '../log-levels.ts';
import { createConnectionPool, type ConnectionPool } from './http-transport.ts';
import { scrubSecrets } from '../redact/secrets.ts';
import { Limiter } from './limiter.ts';
import { looksLikeTicketProblem, readResponse, type Redact } from './response.ts';
import { SoapOperation } from './soap-operation.ts';
import type { SystemUserSession } from './system-user-login.ts';
import { SystemUserTickets } from './system-user-tickets.ts';
import { TicketCache } from './ticket-cache.ts';
import { superofficeCa } from './trust.ts';
import { childElement, escapeXml, textOrNull } from './xml.ts';

/** The tasks one poll of a schedule sees: those it could read, and those left out because a field could not be read. */
export interface ScheduleTasks {
  tasks: BatchTaskInfo[];
  unreadable: UnreadableTask[];
}

export interface SuperOfficeClient {
  /**
   * The tasks a schedule watches. A list of associates: GetBatchTaskInfosByAssociates in chunks of
   * associatesPerRequest. `all`: GetBatchTaskInfosByState(All) (+ GetBatchTaskInfosByAssociates([0]) with
   * includeSystemTasks), without the tasks of associates that other schedules list. A task with a field that
   * cannot be read is left out and reported in `unreadable`; anything wrong with an answer as a whole throws
   * SuperOfficeError (all or nothing: no partial task lists).
   */
  tasksFor(schedule: ScheduleConfig): Promise<ScheduleTasks>;
  /** All tasks of these associates: chunks of associatesPerRequest, <= maxConcurrentRequests calls in flight
   *  across the whole client (shared limiter), per-call timeout. Strict: a task that cannot be read fails the
   *  call with a MalformedResponseError naming it. Throws SuperOfficeError. */
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

export type ClientLog = (level: Exclude<CallbackLevel, 'error'>, msg: string, fields?: Record<string, unknown>) => void;

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

type TaskAnswer = Pick<Extract<BatchCallResult, { ok: true }>, 'tasks' | 'problems'>;

/** Keep-alive connections for one installation, trusting superoffice.tls.ca when it is set. */
function connectionPool(config: SuperOfficeConfig): ConnectionPool {
  const ca = superofficeCa(config);
  return ca === undefined ? createConnectionPool(config.url) : createConnectionPool(config.url, ca);
}

interface PollState {
  failed: boolean;
}

/** A chunk not sent because another chunk of the same poll already failed. */
class ChunkCancelled extends Error {}

/** One Batch.svc operation the client calls, and how its body is built. */
interface BatchCall {
  operation: SoapOperation;
  name: BatchOperation;
  args: object;
  /** For the debug log line. */
  describe: Record<string, unknown>;
}

class SoapSuperOfficeClient implements SuperOfficeClient {
  private readonly batch: Record<BatchOperation, SoapOperation>;
  private readonly principal: SoapOperation;
  private readonly limiter: Limiter;
  private readonly tickets: TicketCache;
  private readonly redact: Redact;
  private readonly log: ClientLog;
  private readonly systemUser: SystemUserTickets | null = null;

  constructor(
    private readonly config: SuperOfficeConfig,
    private readonly options: SuperOfficeClientOptions,
  ) {
    assertTimeZone(config.timeZone);
    const base = `${config.url.replace(/\/+$/, '')}/Remote/Services85`;
    const pool = connectionPool(config);
    const maxBytes = config.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    const batchWsdl = options.batchWsdl ?? DEFAULT_BATCH_WSDL;
    this.batch = {
      GetBatchTaskInfosByAssociates: new SoapOperation(batchWsdl, `${base}/Batch.svc`, 'GetBatchTaskInfosByAssociates', pool, maxBytes),
      GetBatchTaskInfosByState: new SoapOperation(batchWsdl, `${base}/Batch.svc`, 'GetBatchTaskInfosByState', pool, maxBytes),
    };
    this.principal = new SoapOperation(
      options.principalWsdl ?? DEFAULT_PRINCIPAL_WSDL,
      `${base}/SoPrincipal.svc`,
      'AuthenticateUsernamePassword',
      pool,
      maxBytes,
    );
    this.limiter = new Limiter(config.maxConcurrentRequests);
    this.log = options.log ?? (() => {});
    const now = options.now ?? Date.now;
    const { username, password, systemUser } = config;
    let login: (() => Promise<string>) | null = null;
    if (systemUser) {
      const cooldown = options.reloginCooldownMs;
      const tickets = new SystemUserTickets(
        { ...config, systemUser },
        {
          now,
          log: this.log,
          ...(cooldown !== undefined ? { reloginCooldownMs: cooldown } : {}),
          ...(pool.ca !== undefined ? { ca: pool.ca } : {}),
        },
      );
      this.systemUser = tickets;
      login = () => tickets.newTicket();
    } else if (username !== undefined && password !== undefined) {
      login = () => this.login(username, password);
    }
    this.tickets = new TicketCache(config.ticket ?? null, login, now, `superoffice ticket (${config.url})`);
    const configured = [config.ticket, config.password, config.applicationToken];
    this.redact = (text) =>
      scrubSecrets(
        [...configured, ...this.tickets.secrets()]
          .filter((s): s is string => typeof s === 'string' && s.length >= 3)
          .reduce((t, secret) => t.split(secret).join('[redacted]'), text),
      );
  }

  async tasksFor(schedule: ScheduleConfig): Promise<ScheduleTasks> {
    const answers =
      schedule.associates === 'all' ? await this.allTasks(schedule.includeSystemTasks) : await this.tasksOfAssociates(schedule.associates);
    // Tasks of associates another schedule lists belong to that schedule (it watches, mails and exports them);
    // system tasks only with includeSystemTasks, even should GetBatchTaskInfosByState return some.
    const skipped =
      schedule.associates === 'all'
        ? new Set([...schedule.listedElsewhere, ...(schedule.includeSystemTasks ? [] : [SYSTEM_ASSOCIATE_ID])])
        : null;
    const mine = (associateId: number | null) => !skipped || associateId === null || !skipped.has(associateId);
    const unreadable: UnreadableTask[] = [];
    for (const answer of answers) {
      for (const problem of answer.problems) {
        if (mine(problem.associateId)) unreadable.push({ id: problem.id, field: problem.field, problem: this.scrub(problem.message) });
      }
    }
    const tasks = answers.flatMap((answer) => answer.tasks);
    return { tasks: skipped ? tasks.filter((task) => mine(task.associateId)) : tasks, unreadable };
  }

  async getBatchTaskInfosByAssociates(associateIds: readonly number[]): Promise<BatchTaskInfo[]> {
    const answers = await this.tasksOfAssociates(associateIds);
    for (const answer of answers) {
      const problem = answer.problems[0];
      if (problem) throw this.reportError(this.strictError('GetBatchTaskInfosByAssociates', problem));
    }
    return answers.flatMap((answer) => answer.tasks);
  }

  /** GetBatchTaskInfosByState(All), and GetBatchTaskInfosByAssociates([0]) for system tasks, as one poll. */
  private allTasks(includeSystemTasks: boolean): Promise<TaskAnswer[]> {
    const calls: BatchCall[] = [
      {
        operation: this.batch.GetBatchTaskInfosByState,
        name: 'GetBatchTaskInfosByState',
        args: { State: 'All' },
        describe: { state: 'All' },
      },
    ];
    if (includeSystemTasks) calls.push(this.byAssociates([SYSTEM_ASSOCIATE_ID]));
    return this.pollCalls(calls);
  }

  private tasksOfAssociates(associateIds: readonly number[]): Promise<TaskAnswer[]> {
    const ids = [...new Set(associateIds)];
    const size = this.config.associatesPerRequest;
    const calls: BatchCall[] = [];
    for (let i = 0; i < ids.length; i += size) calls.push(this.byAssociates(ids.slice(i, i + size)));
    return this.pollCalls(calls);
  }

  private byAssociates(ids: number[]): BatchCall {
    return {
      operation: this.batch.GetBatchTaskInfosByAssociates,
      name: 'GetBatchTaskInfosByAssociates',
      args: { AssociateIds: { int: ids } },
      describe: { associates: ids.length },
    };
  }

  /** The calls of one poll, all or nothing: the first failure fails the poll and cancels the calls still waiting. */
  private async pollCalls(calls: BatchCall[]): Promise<TaskAnswer[]> {
    const poll: PollState = { failed: false };
    const results = await Promise.allSettled(
      calls.map(async (call): Promise<TaskAnswer> => {
        try {
          return await this.tasksOf(call, poll);
        } catch (err) {
          if (err instanceof ChunkCancelled) return { tasks: [], problems: [] };
          poll.failed = true;
          throw this.reportError(err);
        }
      }),
    );
    const rejected = results.find((r) => r.status === 'rejected');
    if (rejected) throw rejected.reason;
    return results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  }

  private strictError(operation: string, problem: ListedProblem): MalformedResponseError {
    return new MalformedResponseError(`${operation}: ${this.scrub(describeProblem(problem))}`);
  }

  /** Secrets out (the client's own and the process-wide ones), for text that came from the server. */
  private scrub(text: string): string {
    return scrubSecrets(this.redact(text));
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

  /** One Batch call; on a refusal, one fresh ticket and one retry. */
  private async tasksOf(call: BatchCall, poll: PollState): Promise<TaskAnswer> {
    const ticket = await this.tickets.get();
    const first = await this.callBatch(call, ticket, poll);
    if (first.ok) {
      this.tickets.accepted(ticket);
      return first;
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
      operation: call.name,
      kind: refusal.kind,
      error: refusal.message,
    });
    this.tickets.invalidate(ticket);
    const fresh = await this.tickets.get();
    const retry = await this.callBatch(call, fresh, poll);
    if (retry.ok) {
      this.tickets.accepted(fresh);
      return retry;
    }
    throw retry.refusal;
  }

  private async callBatch(call: BatchCall, ticket: string, poll: PollState): Promise<BatchCallResult> {
    const headers = [`<Credentials xmlns="${SO_NS}"><Ticket>${escapeXml(ticket)}</Ticket></Credentials>`];
    if (this.config.applicationToken) headers.unshift(this.applicationTokenHeader(this.config.applicationToken));
    return this.limiter.run(async () => {
      // A poll is all or nothing: once one call failed, calls still waiting are not sent.
      if (poll.failed) throw new ChunkCancelled();
      const started = Date.now();
      try {
        const reader = batchCallReader(call.name, `${call.name}Response`, this.config.timeZone, this.redact);
        const result = await call.operation.stream(call.args, headers, this.config.timeout, reader);
        this.log('debug', call.name, {
          ...call.describe,
          ms: Date.now() - started,
          ...(result.ok ? { tasks: result.tasks.length, unreadable: result.problems.length } : {}),
        });
        return result;
      } catch (err) {
        // Marked before the slot is handed to the next waiting call.
        poll.failed = true;
        throw err;
      }
    });
  }

  private applicationTokenHeader(token: string): string {
    return `<ApplicationToken xmlns="${SO_NS}">${escapeXml(token)}</ApplicationToken>`;
  }

  private async login(username: string, password: string): Promise<string> {
    const headers = this.config.applicationToken ? [this.applicationTokenHeader(this.config.applicationToken)] : [];
    const res = await this.limiter.run(() => this.principal.call({ UserName: username, Password: password }, headers, this.config.timeout));
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

/** The SuperOffice simulator: an HTTP server answering the batch task SOAP calls, with injectable faults. */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { SYSTEM_ASSOCIATE_ID, type BatchTaskInfo } from '../core/task.ts';
import { BATCH_OPERATIONS } from '../superoffice/batch-call.ts';
import { assertTimeZone } from '../superoffice/dates.ts';
import { ARRAYS_NS, readEnvelope, SO_NS, SOAP11_NS, type SoapEnvelope } from '../superoffice/envelope.ts';
import { childElement, childElements, textOrNull, type XmlElement } from '../superoffice/xml.ts';
import {
  authenticateInBandFailure,
  authenticateResponse,
  batchInBandFailure,
  batchTasksResponse,
  soapFault,
  type BatchOperation,
  type ExceptionInfo,
} from './responses.ts';
import { echoCredentials } from './echo.ts';
import { handleOnline, RUNNING, servicesAvailable } from './online.ts';
import { ScenarioRunner, SCENARIOS, scenarioNames } from './scenarios.ts';
import { SystemUserService, type JwtFault, type SimulatedSystemUser } from './system-user.ts';
import { TaskTable, type TaskPatch } from './task-table.ts';

export interface SimulatorOptions {
  port?: number;
  host?: string;
  /** Default 'story'. */
  scenario?: string;
  /** If set, every call must carry it in the ApplicationToken SOAP header. */
  applicationToken?: string;
  /** username -> password; default { demo: 'demo' }. */
  users?: Record<string, string>;
  /** Tickets accepted without authenticating (until expireTickets()). */
  staticTickets?: string[];
  /** How an invalid or expired ticket is refused: in-band Succeeded=false (default) or a SOAP Fault. */
  expiredTicketStyle?: 'in-band' | 'fault';
  /** Scenario clock step, default 5000 ms. */
  stepMs?: number;
  /** Installation base path, default /Cust1. */
  basePath?: string;
  /** Zone the installation writes its offset-less dates in, default UTC. */
  timeZone?: string;
  /** Serve https:// with this key and certificate (PEM) instead of http://. */
  tls?: { key: string; cert: string };
  /** Enables SuperOffice Online's system user login at /login/api/PartnerSystemUser/Authenticate. */
  systemUser?: SimulatedSystemUser;
  /** How long an /api/state answer may be cached (its ValidUntil), default 60 s. */
  tenantStateValidMs?: number;
  /** Clock of the login's time-stamp check and the JWTs (default Date.now). */
  now?: () => number;
}

/**
 * `refuse` hangs up on the call without answering. When it came on a kept-alive connection, the client's
 * immediate retry of the same request on a new connection (same body, within 2 s) is hung up on too, so the
 * call fails even for a client that retries a request whose reused socket was dropped.
 */
export type FaultType = 'http500' | 'soap-fault' | 'in-band' | 'slow' | 'truncated' | 'refuse';

export interface Fault {
  type: FaultType;
  /** How many Batch calls it applies to (default 1). */
  times?: number;
  /** For 'slow' (default 2000 ms). */
  delayMs?: number;
  /** For 'in-band' and 'soap-fault': the exception message (placeholders are filled while echoing credentials). */
  message?: string;
}

export interface RecordedRequest {
  /** GetBatchTaskInfosByAssociates: the ids asked for; GetBatchTaskInfosByState: empty. */
  associateIds: number[];
  /** Only for GetBatchTaskInfosByState: the State asked for. */
  state?: string;
  ticket: string | undefined;
  applicationToken: string | undefined;
  /** ApplicationToken/Credentials were inside soap:Header (and nowhere else). */
  headersInSoapHeader: boolean;
}

export interface SimulatorStats {
  /** Batch.svc calls received (GetBatchTaskInfosByAssociates and GetBatchTaskInfosByState, faulted ones included). */
  calls: number;
  /** AuthenticateUsernamePassword calls received. */
  authCalls: number;
  /** Most requests (of both services) being handled at the same moment. */
  maxInFlight: number;
  /** The most recent Batch requests (up to 10 000), oldest first. */
  requests: RecordedRequest[];
  /** PartnerSystemUser/Authenticate requests received (each one a credentials row in a real tenant). */
  systemUserLogins: number;
  /** Tenant status (/api/state) requests received. */
  tenantStateCalls: number;
  /** Every signed token, JWT and ticket of the system user logins (up to 1 000), so tests can prove none leaks. */
  systemUserSecrets: string[];
  /** Every ticket issued by a login of either kind (up to 1 000), for the same reason. */
  issuedTickets: string[];
}

export interface Simulator {
  /** Installation base, e.g. http://127.0.0.1:PORT/Cust1 */
  url: string;
  close(): Promise<void>;
  tasks(): BatchTaskInfo[];
  upsertTask(task: TaskPatch): void;
  removeTask(id: number): void;
  /** Every ticket issued or configured so far stops being valid. */
  expireTickets(): void;
  /**
   * While on, Batch answers (tasks' text, corrupted fields, fault messages) have {{ticket}} and
   * {{applicationToken}} (also :base64, :url, :lower) replaced by what the request carried (see echo.ts).
   */
  echoCredentials(on: boolean): void;
  injectFault(fault: Fault): void;
  clearFaults(): void;
  /**
   * From now on the task's `field` is sent with this text, valid or not (e.g. LastStarted "yesterday"), so that
   * it cannot be read; null sends the field as the task says again.
   */
  corruptField(id: number, field: string, text: string | null): void;
  readonly stats: SimulatorStats;
  pauseScenario(): void;
  resumeScenario(): void;
  /** Forces the tenant state (e.g. OfflineMaintenance: Batch answers 503); null follows the scenario (Running unless it says otherwise). */
  setTenantState(state: string | null): void;
  tenantState(): string;
  /** While true, /api/state answers HTTP 500 (the state cannot be known). */
  failTenantState(fail: boolean): void;
  /** Makes the JWTs of the following system user logins wrong in this way; null: right again. */
  setJwtFault(fault: JwtFault | null): void;
  /** PEM certificate that verifies the JWTs (jwtCertificate); null without systemUser. */
  readonly jwtCertificate: string | null;
  /** The ContextIdentifier: the last segment of the installation path. */
  readonly contextIdentifier: string;
}

const batchAction = (operation: BatchOperation) => `${SO_NS}/Batch/${operation}`;
const AUTH_ACTION = `${SO_NS}/SoPrincipal/AuthenticateUsernamePassword`;
/** How long a refused request's retry is refused too (see FaultType). */
const REFUSED_RETRY_MS = 2000;
/** GetBatchTaskInfosByState's filter value for every state. */
const ALL_STATES = 'All';

const MAX_REQUEST_BYTES = 1024 * 1024;
/** Keeps a long-running `batchwatch simulator` from growing without bound. */
const MAX_RECORDED_REQUESTS = 10_000;
const MAX_RECORDED_SECRETS = 1000;
const MAINTENANCE_PAGE =
  '<html><head><title>Service Unavailable</title></head><body><h1>SuperOffice is down for maintenance</h1></body></html>';

const EXPIRED_TICKET: ExceptionInfo = {
  exceptionType: 'SoSessionException',
  message: 'Ticket is not valid or the session has expired',
  friendlyText: 'Your session has expired. Please log in again.',
};
const INJECTED_IN_BAND: ExceptionInfo = {
  exceptionType: 'SoDatabaseException',
  message: 'Deadlock while reading the batch task table; rerun the transaction',
  friendlyText: 'The database is busy <try again> & later',
};
const BAD_APPLICATION_TOKEN: ExceptionInfo = {
  exceptionType: 'SoApplicationTokenException',
  message: 'Missing or unknown ApplicationToken',
  friendlyText: 'This application is not allowed to access the installation',
};

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function startSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  const scenarioName = opts.scenario ?? 'story';
  const scenario = SCENARIOS[scenarioName];
  if (!scenario) throw new Error(`unknown scenario "${scenarioName}" (known: ${scenarioNames().join(', ')})`);
  const timeZone = opts.timeZone ?? 'UTC';
  assertTimeZone(timeZone);
  const basePath = `/${(opts.basePath ?? '/Cust1').replace(/^\/+|\/+$/g, '')}`.replace(/^\/$/, '');
  const users = opts.users ?? { demo: 'demo' };
  const expiredStyle = opts.expiredTicketStyle ?? 'in-band';

  const table = new TaskTable();
  const runner = new ScenarioRunner(scenario, table, opts.stepMs ?? 5000);
  const validTickets = new Set(opts.staticTickets ?? []);
  const faults: (Required<Omit<Fault, 'message'>> & Pick<Fault, 'message'>)[] = [];
  let echoing = false;
  const stats: SimulatorStats = {
    calls: 0,
    authCalls: 0,
    maxInFlight: 0,
    requests: [],
    systemUserLogins: 0,
    tenantStateCalls: 0,
    systemUserSecrets: [],
    issuedTickets: [],
  };
  const clock = opts.now ?? Date.now;
  const contextIdentifier =
    basePath
      .split('/')
      .filter((s) => s !== '')
      .pop() ?? '';
  const systemUser = opts.systemUser ? await SystemUserService.create(opts.systemUser) : null;
  let forcedState: string | null = null;
  let stateFails = false;
  const tenantState = (): string => {
    if (forcedState !== null) return forcedState;
    runner.advance();
    return scenario.tenantState?.(runner.step) ?? RUNNING;
  };
  const newTicket = (): string => {
    const ticket = `7T:${randomBytes(24).toString('base64')}`;
    validTickets.add(ticket);
    stats.issuedTickets.push(ticket);
    if (stats.issuedTickets.length > MAX_RECORDED_SECRETS) stats.issuedTickets.shift();
    return ticket;
  };
  let url = '';
  const timers = new Set<NodeJS.Timeout>();
  let inFlight = 0;
  let refused: { body: string; at: number } | null = null;
  const corrupt = new Map<number, Record<string, string>>();
  /** Requests each connection has carried, to tell a kept-alive connection from a new one. */
  const requestsOn = new WeakMap<object, number>();

  const takeFault = (): (typeof faults)[number] | null => {
    const fault = faults[0];
    if (!fault) return null;
    fault.times -= 1;
    if (fault.times <= 0) faults.shift();
    return fault;
  };

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  const send = (res: http.ServerResponse, status: number, xml: string, contentType = 'text/xml; charset=utf-8') => {
    if (res.destroyed) return;
    res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(xml) });
    res.end(xml);
  };

  const headerValues = (env: SoapEnvelope) => {
    const inHeader = (name: string) => env.soapHeaders.find((h) => h.name === name && h.ns === SO_NS);
    const credentials = inHeader('Credentials');
    const ticket = credentials ? textOrNull(childElement(credentials, 'Ticket'))?.trim() : undefined;
    const applicationToken = textOrNull(inHeader('ApplicationToken'))?.trim();
    const misplaced = env.looseHeaders.some((h) => h.name === 'ApplicationToken' || h.name === 'Credentials');
    return {
      ticket: ticket || undefined,
      applicationToken: applicationToken || undefined,
      headersInSoapHeader: !misplaced && (credentials !== undefined || applicationToken !== undefined),
    };
  };

  const applicationTokenOk = (token: string | undefined) => !opts.applicationToken || token === opts.applicationToken;

  const handleBatch = async (env: SoapEnvelope, body: string, action: BatchOperation, res: http.ServerResponse) => {
    stats.calls += 1;
    const operation = env.body.children[0];
    if (!operation || operation.name !== action || operation.ns !== SO_NS) {
      throw new HttpError(500, 'body does not match the SOAPAction');
    }
    const headers = headerValues(env);
    const answer = (status: number, xml: string) => send(res, status, echoing ? echoCredentials(xml, headers) : xml);
    const byState = action === 'GetBatchTaskInfosByState';
    const associateIds = byState ? [] : readAssociateIds(operation);
    const state = byState ? (textOrNull(childElement(operation, 'State'))?.trim() ?? '') : undefined;
    stats.requests.push(state === undefined ? { associateIds, ...headers } : { associateIds, state, ...headers });
    if (stats.requests.length > MAX_RECORDED_REQUESTS) stats.requests.shift();

    if (!servicesAvailable(tenantState())) {
      send(res, 503, MAINTENANCE_PAGE, 'text/html; charset=utf-8');
      return;
    }
    if (refused && refused.body === body && Date.now() - refused.at < REFUSED_RETRY_MS) {
      refused = null;
      res.socket?.destroy();
      return;
    }
    const fault = takeFault();
    if (fault?.type === 'refuse') {
      const reused = res.socket ? (requestsOn.get(res.socket) ?? 0) > 1 : false;
      refused = reused ? { body, at: Date.now() } : null;
      res.socket?.destroy();
      return;
    }
    if (fault?.type === 'http500' || (scenario.failEveryNthCall && stats.calls % scenario.failEveryNthCall === 0)) {
      send(res, 500, '<html><body><h1>500 Internal Server Error</h1></body></html>', 'text/html; charset=utf-8');
      return;
    }
    if (fault?.type === 'soap-fault') {
      answer(
        500,
        soapFault('InternalServiceFault', fault.message ?? 'The server was unable to process the request due to an internal error.'),
      );
      return;
    }
    if (fault?.type === 'in-band') {
      answer(
        200,
        batchInBandFailure(fault.message !== undefined ? { ...INJECTED_IN_BAND, message: fault.message } : INJECTED_IN_BAND, action),
      );
      return;
    }
    if (fault?.type === 'slow') await sleep(fault.delayMs);

    if (!applicationTokenOk(headers.applicationToken)) {
      send(res, 200, batchInBandFailure(BAD_APPLICATION_TOKEN, action));
      return;
    }
    if (!headers.ticket || !validTickets.has(headers.ticket)) {
      if (expiredStyle === 'fault') send(res, 500, soapFault('s:Client', `${EXPIRED_TICKET.exceptionType}: ${EXPIRED_TICKET.message}`));
      else send(res, 200, batchInBandFailure(EXPIRED_TICKET, action));
      return;
    }
    runner.advance();
    // GetBatchTaskInfosByState returns user tasks only (like SuperOffice): system tasks come by associate 0.
    const tasks = byState
      ? table.list().filter((t) => t.associateId !== SYSTEM_ASSOCIATE_ID && (state === ALL_STATES || t.state === state))
      : table.list(new Set(associateIds));
    const xml = batchTasksResponse(tasks, timeZone, action, corrupt);
    answer(200, fault?.type === 'truncated' ? xml.slice(0, Math.floor(xml.length / 2)) : xml);
  };

  const handleAuth = (env: SoapEnvelope, res: http.ServerResponse) => {
    stats.authCalls += 1;
    const operation = env.body.children[0];
    if (operation?.name !== 'AuthenticateUsernamePassword' || operation.ns !== SO_NS) {
      throw new HttpError(500, 'body does not match the SOAPAction');
    }
    if (!servicesAvailable(tenantState())) {
      send(res, 503, MAINTENANCE_PAGE, 'text/html; charset=utf-8');
      return;
    }
    if (!applicationTokenOk(headerValues(env).applicationToken)) {
      send(res, 200, authenticateInBandFailure(BAD_APPLICATION_TOKEN));
      return;
    }
    const username = textOrNull(childElement(operation, 'UserName')) ?? '';
    const password = textOrNull(childElement(operation, 'Password')) ?? '';
    const known = Object.hasOwn(users, username) && users[username] === password;
    if (!known) {
      send(res, 200, authenticateResponse(null));
      return;
    }
    const ticket = newTicket();
    const associateId = Object.keys(users).indexOf(username) + 1;
    send(res, 200, authenticateResponse({ ticket, associate: username, associateId }));
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://simulator').pathname.toLowerCase();
    const online = await handleOnline(
      req,
      path,
      () => readBody(req),
      (status, body, type) => send(res, status, body, type),
      {
        contextIdentifier,
        installationUrl: () => url,
        systemUser,
        tenantState,
        forceTenantState: (state) => {
          forcedState = state;
        },
        tenantStateFails: () => stateFails,
        tenantStateValidMs: opts.tenantStateValidMs ?? 60_000,
        issueTicket: newTicket,
        countLogin: () => {
          stats.systemUserLogins += 1;
        },
        countStateCall: () => {
          stats.tenantStateCalls += 1;
        },
        recordSecret: (secret) => {
          stats.systemUserSecrets.push(secret);
          if (stats.systemUserSecrets.length > MAX_RECORDED_SECRETS) stats.systemUserSecrets.shift();
        },
        now: clock,
      },
    );
    if (online) return;
    const service =
      path === `${basePath}/Remote/Services85/Batch.svc`.toLowerCase()
        ? 'batch'
        : path === `${basePath}/Remote/Services85/SoPrincipal.svc`.toLowerCase()
          ? 'principal'
          : null;
    if (!service) throw new HttpError(404, 'no such service');
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      throw new HttpError(405, 'POST a SOAP 1.1 envelope');
    }
    const contentType = (req.headers['content-type'] ?? '').toLowerCase();
    if (!contentType.startsWith('text/xml')) {
      // What WCF basicHttpBinding answers to SOAP 1.2 (application/soap+xml) and anything else.
      throw new HttpError(
        415,
        `Cannot process the message because the content type '${contentType}' was not the expected type 'text/xml; charset=utf-8'.`,
      );
    }
    const body = await readBody(req);
    const action = (req.headers.soapaction ?? '').toString().replace(/^"|"$/g, '');
    const batchOperation = BATCH_OPERATIONS.find((operation) => batchAction(operation) === action);
    if (service === 'batch' ? !batchOperation : action !== AUTH_ACTION) {
      send(res, 500, soapFault('ActionNotSupported', `The message with Action '${action}' cannot be processed at the receiver.`));
      return;
    }
    let env: SoapEnvelope;
    try {
      env = readEnvelope(body);
    } catch (err) {
      send(res, 400, soapFault('s:Client', `Bad request: ${err instanceof Error ? err.message : String(err)}`));
      return;
    }
    if (env.version !== '1.1') {
      send(res, 500, soapFault('s:VersionMismatch', `Expected envelope namespace ${SOAP11_NS}`));
      return;
    }
    if (service === 'batch' && batchOperation) await handleBatch(env, body, batchOperation, res);
    else handleAuth(env, res);
  };

  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    requestsOn.set(req.socket, (requestsOn.get(req.socket) ?? 0) + 1);
    inFlight += 1;
    stats.maxInFlight = Math.max(stats.maxInFlight, inFlight);
    let counted = true;
    const done = () => {
      if (counted) inFlight -= 1;
      counted = false;
    };
    res.on('close', done);
    handle(req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : 500;
      const message = err instanceof Error ? err.message : String(err);
      send(res, status, `${status} ${message}\n`, 'text/plain; charset=utf-8');
    });
  };
  const server = opts.tls ? https.createServer({ key: opts.tls.key, cert: opts.tls.cert }, onRequest) : http.createServer(onRequest);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  url = `${opts.tls ? 'https' : 'http'}://${host}:${address.port}${basePath}`;
  return {
    url,
    stats,
    contextIdentifier,
    jwtCertificate: systemUser?.certificate ?? null,
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
    tasks() {
      runner.advance();
      return table.list();
    },
    upsertTask(task) {
      runner.advance();
      table.upsert(task);
    },
    removeTask(id) {
      runner.advance();
      table.remove(id);
    },
    expireTickets() {
      validTickets.clear();
    },
    injectFault(fault) {
      faults.push({
        type: fault.type,
        times: fault.times ?? 1,
        delayMs: fault.delayMs ?? 2000,
        ...(fault.message !== undefined ? { message: fault.message } : {}),
      });
    },
    echoCredentials(on) {
      echoing = on;
    },
    clearFaults() {
      faults.length = 0;
    },
    corruptField(id, field, text) {
      const fields = { ...corrupt.get(id) };
      if (text === null) delete fields[field];
      else fields[field] = text;
      if (Object.keys(fields).length > 0) corrupt.set(id, fields);
      else corrupt.delete(id);
    },
    pauseScenario() {
      runner.pause();
    },
    resumeScenario() {
      runner.resume();
    },
    setTenantState(state) {
      forcedState = state;
    },
    tenantState,
    failTenantState(fail) {
      stateFails = fail;
    },
    setJwtFault(fault) {
      if (!systemUser) throw new Error('setJwtFault needs the systemUser option');
      systemUser.setJwtFault(fault);
    },
  };
}

/** WCF only reads <int> items in the Serialization/Arrays namespace. */
function readAssociateIds(operation: XmlElement): number[] {
  const list = childElement(operation, 'AssociateIds');
  if (!list) return [];
  return childElements(list, 'int')
    .filter((i) => i.ns === ARRAYS_NS)
    .map((i) => Number(i.text.trim()))
    .filter((n) => Number.isInteger(n));
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_REQUEST_BYTES) {
        reject(new HttpError(413, 'request too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The simulator's SuperOffice Online REST endpoints: system user login, tenant status, and a control to change the tenant state. */
import type http from 'node:http';
import type { SystemUserService } from './system-user.ts';

export const RUNNING = 'Running';

/** States in which the tenant's services still answer (OnlineMaintenance: "API available"). */
export function servicesAvailable(state: string): boolean {
  return state === RUNNING || state === 'OnlineMaintenance';
}

export const LOGIN_PATH = '/login/api/partnersystemuser/authenticate';
export const STATE_PATH = '/api/state/';
/** PUT a state name (text body) to force it; DELETE to follow the scenario again. */
export const STATE_CONTROL_PATH = '/_simulator/tenant-state';

export interface OnlineContext {
  contextIdentifier: string;
  /** Installation base, e.g. http://127.0.0.1:8085/Cust1 */
  installationUrl(): string;
  systemUser: SystemUserService | null;
  tenantState(): string;
  /** Forces a state; null follows the scenario. */
  forceTenantState(state: string | null): void;
  /** The state endpoint answers HTTP 500 while true. */
  tenantStateFails(): boolean;
  tenantStateValidMs: number;
  issueTicket(): string;
  countLogin(): void;
  countStateCall(): void;
  recordSecret(secret: string): void;
  now(): number;
}

type Send = (status: number, body: string, contentType: string) => void;

function sendJson(send: Send, status: number, value: unknown): void {
  send(status, JSON.stringify(value), 'application/json; charset=utf-8');
}

/**
 * Handles the request when it is one of the Online endpoints; returns false otherwise.
 * `path` is the lower-cased pathname; `readBody` reads the request body (size-limited).
 */
export async function handleOnline(
  req: http.IncomingMessage,
  path: string,
  readBody: () => Promise<string>,
  send: Send,
  ctx: OnlineContext,
): Promise<boolean> {
  if (path === LOGIN_PATH) {
    if (req.method !== 'POST') {
      sendJson(send, 405, { Message: 'POST a JSON body' });
      return true;
    }
    ctx.countLogin();
    let body: unknown;
    try {
      body = JSON.parse(await readBody());
    } catch {
      sendJson(send, 400, { Message: 'The request body is not JSON.' });
      return true;
    }
    if (!ctx.systemUser) {
      sendJson(send, 200, { IsSuccessful: false, Token: null, ErrorMessage: 'System user login is not enabled on this simulator' });
      return true;
    }
    const answer = await ctx.systemUser.authenticate(
      body,
      { contextIdentifier: ctx.contextIdentifier, installationUrl: ctx.installationUrl(), now: ctx.now() },
      ctx.issueTicket,
      ctx.recordSecret,
    );
    sendJson(send, answer.status, answer.json);
    return true;
  }

  if (path.startsWith(STATE_PATH)) {
    if (req.method !== 'GET') {
      sendJson(send, 405, { Message: 'GET only' });
      return true;
    }
    ctx.countStateCall();
    if (ctx.tenantStateFails()) {
      send(500, '<html><body><h1>500 Internal Server Error</h1></body></html>', 'text/html; charset=utf-8');
      return true;
    }
    const asked = decodeURIComponent(path.slice(STATE_PATH.length));
    if (asked !== ctx.contextIdentifier.toLowerCase()) {
      sendJson(send, 404, { Message: `Unknown customer ${asked}` });
      return true;
    }
    const state = ctx.tenantState();
    sendJson(send, 200, {
      ContextIdentifier: ctx.contextIdentifier,
      State: state,
      IsRunning: state === RUNNING,
      ValidUntil: new Date(ctx.now() + ctx.tenantStateValidMs).toISOString(),
      Endpoint: ctx.installationUrl(),
    });
    return true;
  }

  if (path === STATE_CONTROL_PATH) {
    if (req.method === 'PUT' || req.method === 'POST') {
      const state = (await readBody()).trim();
      if (!/^[A-Za-z]{1,40}$/.test(state)) {
        send(400, 'send a state name, e.g. OfflineMaintenance or Running\n', 'text/plain; charset=utf-8');
        return true;
      }
      ctx.forceTenantState(state);
    } else if (req.method === 'DELETE') {
      ctx.forceTenantState(null);
    } else if (req.method !== 'GET') {
      send(405, 'GET, PUT or DELETE\n', 'text/plain; charset=utf-8');
      return true;
    }
    send(200, `${ctx.tenantState()}\n`, 'text/plain; charset=utf-8');
    return true;
  }
  return false;
}

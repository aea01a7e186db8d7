import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { SuperOfficeConfig } from '../../src/config/types.ts';
import { withOverrides, type Overrides } from './overrides.ts';

export const S11 = 'http://schemas.xmlsoap.org/soap/envelope/';
export const SO = 'http://www.superoffice.net/ws/crm/NetServer/Services85';
export const XSI = 'http://www.w3.org/2001/XMLSchema-instance';

/** A WCF-style answer of `operation` with the given inner XML of its Response element. */
export function batchAnswer(responseInner: string, operation = 'GetBatchTaskInfosByAssociates'): string {
  return (
    `<s:Envelope xmlns:s="${S11}"><s:Header><ExceptionInfo i:nil="true" xmlns="${SO}" xmlns:i="${XSI}"/><Succeeded xmlns="${SO}">true</Succeeded></s:Header>` +
    `<s:Body><${operation}Response xmlns="${SO}"><Response xmlns:i="${XSI}">${responseInner}</Response></${operation}Response></s:Body></s:Envelope>`
  );
}

/** One BatchTaskInfo with plausible fields, overridden by `fields` (raw XML text per element). */
export function taskXml(fields: Record<string, string>): string {
  const base: Record<string, string> = {
    Id: '1',
    Name: 'Task',
    AssociateId: '12',
    State: 'Started',
    ProgressPercent: '10',
    LastStarted: '2024-07-01T12:00:00',
    Created: '2024-01-15T08:30:00',
    ...fields,
  };
  return `<BatchTaskInfo>${Object.entries(base)
    .map(([k, v]) => `<${k}>${v}</${k}>`)
    .join('')}</BatchTaskInfo>`;
}

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export interface SoapTestServer {
  /** Installation base to put in superoffice.url. */
  readonly url: string;
  /** TCP connections accepted so far. */
  readonly connections: number;
  /** Requests received so far. */
  readonly requests: number;
  /** Answers every request with `handler` from now on. */
  handle(handler: Handler): void;
  /** Answers every request with this status and body. */
  answer(body: string | Buffer, status?: number): void;
  close(): Promise<void>;
}

/** A real HTTP server for client tests: whatever the test says, counted per connection and request. */
export async function startSoapServer(): Promise<SoapTestServer> {
  let handler: Handler = (_req, res) => res.end();
  let connections = 0;
  let requests = 0;
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    requests += 1;
    req.resume();
    req.on('end', () => handler(req, res));
  });
  server.on('connection', (socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/Cust9`,
    get connections() {
      return connections;
    },
    get requests() {
      return requests;
    },
    handle(next) {
      handler = next;
    },
    answer(body, status = 200) {
      handler = (_req, res) => {
        res.writeHead(status, { 'Content-Type': 'text/xml; charset=utf-8' });
        res.end(body);
      };
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Client config for a test server: a static ticket, UTC. */
export function soapConfig(url: string, overrides: Overrides<SuperOfficeConfig> = {}): SuperOfficeConfig {
  const defaults: SuperOfficeConfig = {
    url,
    ticket: '7T:fixed-ticket-for-tests==',
    timeout: 5000,
    associatesPerRequest: 100,
    maxConcurrentRequests: 2,
    timeZone: 'UTC',
  };
  return withOverrides(defaults, overrides);
}

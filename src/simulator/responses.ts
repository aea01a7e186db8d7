/** The simulator's SOAP answers (WCF-style SOAP 1.1), written by hand with every value escaped. */
import type { BatchTaskInfo } from '../core/task.ts';
import type { BatchOperation } from '../superoffice/batch-call.ts';
import { formatSoDate } from '../superoffice/dates.ts';
import { SO_NS, SOAP11_NS } from '../superoffice/envelope.ts';
import { escapeXml, XSI_NS } from '../superoffice/xml.ts';

/** WCF-style SOAP 1.1 answers, written by hand. Every value is escaped. */

export interface ExceptionInfo {
  exceptionType: string;
  message: string;
  friendlyText: string;
}

const NIL = 'i:nil="true"';
const MIN_DATE = '0001-01-01T00:00:00';

function envelope(headers: string, body: string): string {
  return `<s:Envelope xmlns:s="${SOAP11_NS}">${headers ? `<s:Header>${headers}</s:Header>` : ''}<s:Body>${body}</s:Body></s:Envelope>`;
}

function soHeaders(failure: ExceptionInfo | null): string {
  const ns = `xmlns="${SO_NS}" xmlns:i="${XSI_NS}"`;
  const exception = failure
    ? `<ExceptionInfo ${ns}><Message>${escapeXml(failure.message)}</Message><StackTrace ${NIL}/>` +
      `<FriendlyText>${escapeXml(failure.friendlyText)}</FriendlyText><ExceptionType>${escapeXml(failure.exceptionType)}</ExceptionType>` +
      `<Source>SuperOffice.Services</Source><InnerException ${NIL}/><Parameters ${NIL}/></ExceptionInfo>`
    : `<ExceptionInfo ${NIL} ${ns}/>`;
  return `${exception}<ExtraInfo ${NIL} ${ns}/><Succeeded xmlns="${SO_NS}">${failure ? 'false' : 'true'}</Succeeded><TimeZone ${NIL} ${ns}/>`;
}

function str(name: string, value: string | null): string {
  return value === null ? `<${name} ${NIL}/>` : `<${name}>${escapeXml(value)}</${name}>`;
}

/** Field texts that replace what a task would say (e.g. LastStarted "yesterday"), by task id. */
export type CorruptFields = ReadonlyMap<number, Readonly<Record<string, string>>>;

/** `xml` with the text of each named field replaced as given (escaped; the field need not exist yet). */
function withFields(xml: string, fields: Readonly<Record<string, string>> | undefined): string {
  if (!fields) return xml;
  let out = xml;
  for (const [name, text] of Object.entries(fields)) {
    const element = `<${name}>${escapeXml(text)}</${name}>`;
    const existing = new RegExp(`<${name}(?: [^>]*)?(?:/>|>[^<]*</${name}>)`);
    out = existing.test(out) ? out.replace(existing, () => element) : out.replace('</BatchTaskInfo>', () => `${element}</BatchTaskInfo>`);
  }
  return out;
}

function taskXml(t: BatchTaskInfo, timeZone: string): string {
  const date = (v: number | null) => (v === null ? MIN_DATE : formatSoDate(v, timeZone));
  const params = Object.entries(t.parameterObject)
    .map(([k, v]) => `<StringKeyValuePair><Key>${escapeXml(k)}</Key><Value>${escapeXml(v)}</Value></StringKeyValuePair>`)
    .join('');
  return (
    `<BatchTaskInfo><TableRight ${NIL}/><FieldProperties ${NIL}/>` +
    `<Id>${t.id}</Id>${str('Name', t.name)}<AssociateId>${t.associateId}</AssociateId>` +
    `<DetailsTable>${t.detailsTable ?? 0}</DetailsTable><DetailsRecord>${t.detailsRecord ?? 0}</DetailsRecord>` +
    `<IsSystemTask>${t.isSystemTask ?? false}</IsSystemTask><IsInternalTask>${t.isInternalTask ?? false}</IsInternalTask>` +
    `<ParameterObject>${params}</ParameterObject>` +
    `<LastStarted>${date(t.lastStarted)}</LastStarted><Created>${date(t.created)}</Created>` +
    `<StartCount>${t.startCount ?? 0}</StartCount>` +
    str('DatabaseSerialNumber', t.databaseSerialNumber) +
    str('Context', t.context) +
    str('Result', t.result) +
    `<State>${escapeXml(t.state)}</State>` +
    str('Description', t.description) +
    str('Response', t.response) +
    str('Request', t.request) +
    str('ProgressDescription', t.progressDescription) +
    `<ProgressPercent>${Math.round(t.progressPercent ?? 0)}</ProgressPercent></BatchTaskInfo>`
  );
}

export type { BatchOperation };

export function batchTasksResponse(
  tasks: readonly BatchTaskInfo[],
  timeZone: string,
  operation: BatchOperation = 'GetBatchTaskInfosByAssociates',
  corrupt?: CorruptFields,
): string {
  const items = tasks.map((t) => withFields(taskXml(t, timeZone), corrupt?.get(t.id))).join('');
  return envelope(
    soHeaders(null),
    `<${operation}Response xmlns="${SO_NS}"><Response xmlns:i="${XSI_NS}">${items}</Response></${operation}Response>`,
  );
}

export function batchInBandFailure(failure: ExceptionInfo, operation: BatchOperation = 'GetBatchTaskInfosByAssociates'): string {
  return envelope(
    soHeaders(failure),
    `<${operation}Response xmlns="${SO_NS}"><Response ${NIL} xmlns:i="${XSI_NS}"/></${operation}Response>`,
  );
}

const BODY_STATES = ['New', 'Started', 'Started', 'Succeeded', 'Succeeded', 'Failed', 'Aquired'] as const;

/**
 * An answer of `count` tasks as the simulator writes it (about 700 bytes per task), for benchmarks and
 * load tests: ids from 1, a spread of states, names and associates, deterministic for a given count.
 */
export function batchResponseBody(
  count: number,
  operation: BatchOperation = 'GetBatchTaskInfosByState',
  now = Date.UTC(2024, 6, 1, 12),
): string {
  const tasks: BatchTaskInfo[] = [];
  for (let i = 1; i <= count; i++) {
    const state = BODY_STATES[i % BODY_STATES.length] as string;
    tasks.push({
      id: i,
      name: `Task${i % 50}`,
      associateId: 1 + (i % 997),
      detailsTable: 0,
      detailsRecord: 0,
      isSystemTask: false,
      isInternalTask: false,
      parameterObject: i % 10 === 0 ? { mailingId: String(i) } : {},
      lastStarted: now - (i % 3600) * 1000,
      created: now - 86_400_000 - i * 1000,
      startCount: 1 + (i % 3),
      databaseSerialNumber: null,
      context: null,
      result: state === 'Succeeded' ? 'OK' : null,
      state,
      description: `Batch task number ${i}`,
      response: state === 'Failed' ? 'Error: the relay refused the message' : null,
      request: null,
      progressDescription: state === 'Started' ? `Step ${i % 7} of 10` : null,
      progressPercent: (i * 7) % 101,
    });
  }
  return batchTasksResponse(tasks, 'UTC', operation);
}

export function authenticateResponse(result: { ticket: string; associate: string; associateId: number } | null): string {
  const body = result
    ? `<Response><Associate>${escapeXml(result.associate)}</Associate><AssociateId>${result.associateId}</AssociateId></Response>` +
      `<Credentials><Ticket>${escapeXml(result.ticket)}</Ticket></Credentials><AuthenticationSucceeded>true</AuthenticationSucceeded>`
    : `<Response ${NIL}/><Credentials ${NIL}/><AuthenticationSucceeded>false</AuthenticationSucceeded>`;
  return envelope(soHeaders(null), `<AuthenticateResponse xmlns="${SO_NS}" xmlns:i="${XSI_NS}">${body}</AuthenticateResponse>`);
}

export function authenticateInBandFailure(failure: ExceptionInfo): string {
  return envelope(
    soHeaders(failure),
    `<AuthenticateResponse xmlns="${SO_NS}" xmlns:i="${XSI_NS}"><Response ${NIL}/><Credentials ${NIL}/><AuthenticationSucceeded>false</AuthenticationSucceeded></AuthenticateResponse>`,
  );
}

const WCF_DISPATCHER = 'http://schemas.microsoft.com/net/2005/12/windowscommunicationfoundation/dispatcher';

/** A WCF fault; `code` is a local name in the WCF dispatcher namespace or an s: code (e.g. s:Client). */
export function soapFault(code: string, message: string): string {
  const faultcode = code.startsWith('s:') ? escapeXml(code) : `a:${escapeXml(code)}`;
  return envelope(
    '',
    `<s:Fault><faultcode xmlns:a="${WCF_DISPATCHER}">${faultcode}</faultcode><faultstring xml:lang="en-US">${escapeXml(message)}</faultstring></s:Fault>`,
  );
}

/** Reads a SOAP 1.1/1.2 envelope: header, body and fault. */
import { childElement, parseXml, textOrNull, isNil, type XmlElement } from './xml.ts';

export const SOAP11_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
export const SOAP12_NS = 'http://www.w3.org/2003/05/soap-envelope';
export const SO_NS = 'http://www.superoffice.net/ws/crm/NetServer/Services85';
export const ARRAYS_NS = 'http://schemas.microsoft.com/2003/10/Serialization/Arrays';

export interface SoapEnvelope {
  version: '1.1' | '1.2';
  /** Children of soap:Header, plus non-Body elements placed directly under Envelope (as in SuperOffice's doc examples). */
  headers: XmlElement[];
  /** Only the children of soap:Header (what a WCF service honours). */
  soapHeaders: XmlElement[];
  /** Elements other than Header and Body directly under Envelope. */
  looseHeaders: XmlElement[];
  body: XmlElement;
}

export class EnvelopeError extends Error {
  override name = 'EnvelopeError';
}

/** Reads a SOAP 1.1 or 1.2 envelope. Throws XmlSyntaxError or EnvelopeError. */
export function readEnvelope(xml: string): SoapEnvelope {
  const root = parseXml(xml);
  if (root.name !== 'Envelope' || (root.ns !== SOAP11_NS && root.ns !== SOAP12_NS)) {
    throw new EnvelopeError(`not a SOAP envelope (root element ${root.name})`);
  }
  const body = root.children.find((c) => c.name === 'Body' && c.ns === root.ns);
  if (!body) throw new EnvelopeError('SOAP envelope without Body');
  const header = root.children.find((c) => c.name === 'Header' && c.ns === root.ns);
  const loose = root.children.filter((c) => c !== body && c !== header);
  return {
    version: root.ns === SOAP11_NS ? '1.1' : '1.2',
    headers: [...(header?.children ?? []), ...loose],
    soapHeaders: header?.children ?? [],
    looseHeaders: loose,
    body,
  };
}

export function header(envelope: SoapEnvelope, name: string): XmlElement | undefined {
  return envelope.headers.find((h) => h.name === name);
}

export interface SoapFault {
  code: string;
  message: string;
}

/** The SOAP 1.1 or 1.2 Fault in the body, if any. */
export function faultOf(envelope: SoapEnvelope): SoapFault | null {
  const fault = envelope.body.children.find((c) => c.name === 'Fault');
  if (!fault) return null;
  const code11 = textOrNull(childElement(fault, 'faultcode'));
  const string11 = textOrNull(childElement(fault, 'faultstring'));
  const code12El = childElement(fault, 'Code');
  const code12 = code12El ? textOrNull(childElement(code12El, 'Value')) : null;
  const reason = childElement(fault, 'Reason');
  const reason12 = reason ? textOrNull(childElement(reason, 'Text')) : null;
  return {
    code: (code11 ?? code12 ?? 'unknown').trim(),
    message: (string11 ?? reason12 ?? '(no fault string)').trim(),
  };
}

export interface InBandFailure {
  exceptionType: string | null;
  message: string | null;
  friendlyText: string | null;
}

/** SuperOffice's in-band error: Succeeded=false, or an ExceptionInfo header that is not nil. */
export function inBandFailureOf(envelope: SoapEnvelope): InBandFailure | null {
  const succeeded = textOrNull(header(envelope, 'Succeeded'))?.trim().toLowerCase();
  const info = header(envelope, 'ExceptionInfo');
  const hasInfo = info !== undefined && !isNil(info) && info.children.length > 0;
  if (succeeded !== 'false' && succeeded !== '0' && !hasInfo) return null;
  const field = (name: string) => {
    const value = info && hasInfo ? textOrNull(childElement(info, name))?.trim() : undefined;
    return value ? value : null;
  };
  return {
    exceptionType: field('ExceptionType'),
    message: field('Message') ?? (hasInfo ? null : 'Succeeded=false without ExceptionInfo'),
    friendlyText: field('FriendlyText'),
  };
}

/** The single element inside Body, when it has the expected local name. */
export function bodyElement(envelope: SoapEnvelope, expected: string): XmlElement {
  const first = envelope.body.children[0];
  if (!first) throw new EnvelopeError(`empty SOAP Body (expected ${expected})`);
  if (first.name !== expected) throw new EnvelopeError(`unexpected ${first.name} in SOAP Body (expected ${expected})`);
  return first;
}

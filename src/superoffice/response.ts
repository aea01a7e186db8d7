import { bodyElement, EnvelopeError, faultOf, inBandFailureOf, readEnvelope } from './envelope.ts';
import { MalformedResponseError, SoapFaultError, SuperOfficeInBandError, TransportError } from './errors.ts';
import type { RawHttpResponse } from './http-transport.ts';
import { XmlSyntaxError, type XmlElement } from './xml.ts';

/** A call SuperOffice refused: a SOAP fault or an in-band error. May mean the ticket expired. */
export type Refusal = SoapFaultError | SuperOfficeInBandError;

export type ReadResult = { ok: true; element: XmlElement } | { ok: false; refusal: Refusal };

/** Removes secrets from text that came back from the server before it goes into an error. */
export type Redact = (text: string) => string;

const MAX_TEXT = 500;
const clip = (s: string) => (s.length > MAX_TEXT ? `${s.slice(0, MAX_TEXT)}...` : s);

/**
 * Judges a raw answer the way SuperOffice's wire contract says: non-200 without a fault is a transport
 * failure; a Fault or Succeeded=false/ExceptionInfo is a refusal; otherwise Body must hold `expected`.
 * A response without a Succeeded header counts as success. Throws TransportError or MalformedResponseError.
 */
export function readResponse(res: RawHttpResponse, expected: string, operation: string, redact: Redact): ReadResult {
  const clean = (s: string | null) => (s === null ? null : clip(redact(s)));
  let envelope;
  try {
    envelope = readEnvelope(res.body);
  } catch (err) {
    if (res.status !== 200) {
      throw new TransportError('http-status', `${operation}: HTTP ${res.status} from SuperOffice`, { status: res.status });
    }
    if (err instanceof XmlSyntaxError || err instanceof EnvelopeError) {
      throw new MalformedResponseError(
        `${operation}: unreadable response (${err.message}; ${res.contentType ?? 'no content type'}, ${res.body.length} chars)`,
      );
    }
    throw err;
  }
  const fault = faultOf(envelope);
  if (fault) {
    const status = res.status === 200 ? undefined : res.status;
    return { ok: false, refusal: new SoapFaultError(clean(fault.code) ?? '', clean(fault.message) ?? '', status) };
  }
  if (res.status !== 200) {
    throw new TransportError('http-status', `${operation}: HTTP ${res.status} from SuperOffice`, { status: res.status });
  }
  const inBand = inBandFailureOf(envelope);
  if (inBand) {
    return {
      ok: false,
      refusal: new SuperOfficeInBandError(clean(inBand.exceptionType), clean(inBand.message), clean(inBand.friendlyText)),
    };
  }
  try {
    return { ok: true, element: bodyElement(envelope, expected) };
  } catch (err) {
    if (err instanceof EnvelopeError) throw new MalformedResponseError(`${operation}: ${err.message}`);
    throw err;
  }
}

/** Whether a refusal reads like an invalid or expired ticket rather than some other server error. */
export function looksLikeTicketProblem(refusal: Refusal): boolean {
  const text =
    refusal instanceof SoapFaultError
      ? `${refusal.faultcode} ${refusal.faultstring}`
      : `${refusal.exceptionType ?? ''} ${refusal.message}`;
  return /ticket|session|credential|authenticat|logged in|log in|unauthori[sz]ed/i.test(text);
}

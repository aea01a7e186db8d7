/** Judges a SuperOffice answer: transport failure, refusal (fault or in-band error) or the expected result. */
import { bodyElement, EnvelopeError, faultOf, inBandFailureOf, readEnvelope, type SoapEnvelope } from './envelope.ts';
import { MalformedResponseError, SoapFaultError, SuperOfficeInBandError, TransportError } from './errors.ts';
import type { RawHttpResponse, ResponseHead } from './http-transport.ts';
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
  let envelope: SoapEnvelope;
  try {
    envelope = readEnvelope(res.body);
  } catch (err) {
    throw unreadableAnswer(err, res, operation, `${res.body.length} chars`);
  }
  return judgeEnvelope(envelope, res.status, expected, operation, redact);
}

/**
 * The error for an answer whose XML or envelope could not be read (at the first problem, possibly before the
 * whole body arrived): a transport error when HTTP already said it failed, else a malformed answer.
 * Anything that is not a parse problem is passed through.
 */
export function unreadableAnswer(err: unknown, head: ResponseHead, operation: string, extent: string): unknown {
  if (head.status !== 200) {
    return new TransportError('http-status', `${operation}: HTTP ${head.status} from SuperOffice`, { status: head.status });
  }
  if (err instanceof XmlSyntaxError || err instanceof EnvelopeError) {
    return new MalformedResponseError(
      `${operation}: unreadable response (${err.message}; ${head.contentType ?? 'no content type'}, ${extent})`,
    );
  }
  return err;
}

/** The verdict on an envelope that was read completely (see readResponse). */
export function judgeEnvelope(envelope: SoapEnvelope, status: number, expected: string, operation: string, redact: Redact): ReadResult {
  const clean = (s: string | null) => (s === null ? null : clip(redact(s)));
  const fault = faultOf(envelope);
  if (fault) {
    const faultStatus = status === 200 ? undefined : status;
    return { ok: false, refusal: new SoapFaultError(clean(fault.code) ?? '', clean(fault.message) ?? '', faultStatus) };
  }
  if (status !== 200) {
    throw new TransportError('http-status', `${operation}: HTTP ${status} from SuperOffice`, { status });
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
    refusal instanceof SoapFaultError ? `${refusal.faultcode} ${refusal.faultstring}` : `${refusal.exceptionType ?? ''} ${refusal.message}`;
  return /ticket|session|credential|authenticat|logged in|log in|unauthori[sz]ed/i.test(text);
}

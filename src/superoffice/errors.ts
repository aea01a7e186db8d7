import type { PollErrorKind } from '../core/model.ts';

/**
 * Every failure of a SuperOffice call. Messages are operator-facing and never contain
 * the ticket, the password or the application token.
 */
export class SuperOfficeError extends Error {
  readonly kind: PollErrorKind;

  constructor(kind: PollErrorKind, message: string) {
    super(message);
    this.name = new.target.name;
    this.kind = kind;
  }

  toJSON(): Record<string, unknown> {
    const own: Record<string, unknown> = Object.fromEntries(Object.entries(this));
    return { ...own, name: this.name, kind: this.kind, message: this.message };
  }
}

export type TransportReason = 'refused' | 'reset' | 'timeout' | 'tls' | 'http-status' | 'network' | 'too-large';

/** The HTTP exchange itself failed: connection refused or reset, timeout, TLS, a non-200 status without a SOAP fault, or an answer above superoffice.maxResponseBytes. */
export class TransportError extends SuperOfficeError {
  readonly reason: TransportReason;
  readonly status?: number;
  /** Node's error code (ECONNREFUSED, CERT_HAS_EXPIRED...) when there is one. */
  readonly code?: string;

  constructor(reason: TransportReason, message: string, details: { status?: number; code?: string } = {}) {
    super('transport', message);
    this.reason = reason;
    if (details.status !== undefined) this.status = details.status;
    if (details.code !== undefined) this.code = details.code;
  }
}

/** The body was a SOAP Fault (WCF sends them with HTTP 500). */
export class SoapFaultError extends SuperOfficeError {
  readonly faultcode: string;
  readonly faultstring: string;
  readonly status?: number;

  constructor(faultcode: string, faultstring: string, status?: number) {
    super('soap-fault', `SuperOffice answered with a SOAP fault ${faultcode}: ${faultstring}`);
    this.faultcode = faultcode;
    this.faultstring = faultstring;
    if (status !== undefined) this.status = status;
  }
}

/** SuperOffice's in-band error: the Succeeded header was false or ExceptionInfo was present. */
export class SuperOfficeInBandError extends SuperOfficeError {
  readonly exceptionType: string | null;
  readonly friendlyText: string | null;

  constructor(exceptionType: string | null, message: string | null, friendlyText: string | null) {
    super('superoffice', `SuperOffice reported ${exceptionType ?? 'an error'}: ${message ?? friendlyText ?? '(no message)'}`);
    this.exceptionType = exceptionType;
    this.friendlyText = friendlyText;
  }
}

/** No usable ticket: wrong username/password, or a static ticket SuperOffice no longer accepts. */
export class AuthError extends SuperOfficeError {
  constructor(message: string) {
    super('auth', message);
  }
}

/** The response could not be read: not XML, truncated, not a SOAP envelope, or a field of the wrong type. */
export class MalformedResponseError extends SuperOfficeError {
  constructor(message: string) {
    super('malformed', message);
  }
}

/** The client itself could not be set up (e.g. an override WSDL that cannot be read). */
export class ClientSetupError extends SuperOfficeError {
  constructor(message: string) {
    super('internal', message);
  }
}

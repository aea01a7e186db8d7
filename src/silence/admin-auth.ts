/**
 * Who may change silences and acknowledgements over HTTP: a request with `Authorization: Bearer <http.adminToken>`.
 * The token is compared in constant time (SHA-256 digests of both, then timingSafeEqual, so neither the content
 * nor the length leaks through timing). Without a configured token, writes are refused (403), not open.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export type AdminCheck =
  | { ok: true }
  /** 401: no or a wrong token; 403: writes are off because no token is configured. */
  | { ok: false; status: 401 | 403; message: string };

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

export function adminCheck(adminToken: string | undefined): (authorization: string | undefined) => AdminCheck {
  const expected = adminToken === undefined ? null : digest(adminToken);
  return (authorization) => {
    if (expected === null)
      return { ok: false, status: 403, message: 'writes are disabled: set http.adminToken in the config to allow them' };
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '');
    if (!match) return { ok: false, status: 401, message: 'send the admin token as "Authorization: Bearer TOKEN" (http.adminToken)' };
    if (!timingSafeEqual(digest(match[1]!), expected)) return { ok: false, status: 401, message: 'wrong admin token (http.adminToken)' };
    return { ok: true };
  };
}

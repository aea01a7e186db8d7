/** Redis connection errors in operator words: what failed and which config key changes it. */

/** Node's TLS verification failures: the server's certificate is not trusted (or not for this host). */
const UNTRUSTED_CERTIFICATE = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_UNTRUSTED',
]);
const BAD_CERTIFICATE = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERR_TLS_CERT_ALTNAME_INVALID']);

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** True when the error is about the server's TLS certificate (untrusted, expired, wrong host). */
export function isCertificateError(error: unknown): boolean {
  const code = codeOf(error);
  return code !== undefined && (UNTRUSTED_CERTIFICATE.has(code) || BAD_CERTIFICATE.has(code));
}

/**
 * One line for logs, readiness and `check`. Messages of ioredis name no credentials, but anything that
 * looks like a URL's userinfo is masked all the same.
 */
export function explainRedisError(error: unknown): string {
  const message = (error instanceof Error ? error.message : String(error)).replace(/\/\/[^@\s/]*@/g, '//***@').slice(0, 300);
  const code = codeOf(error);
  if (code !== undefined && UNTRUSTED_CERTIFICATE.has(code)) {
    return `${message}: the Redis server's TLS certificate is not trusted; set redis.tls.ca to the PEM file of the CA that signed it`;
  }
  if (code !== undefined && BAD_CERTIFICATE.has(code)) {
    return `${message}: the Redis server's TLS certificate is not valid for this connection (host name or dates)`;
  }
  if (/^WRONGPASS|^NOAUTH|invalid password|invalid username-password/i.test(message)) {
    return `${message}: check the Redis password (redis.url, redis.sentinel.password or redis.cluster.password)`;
  }
  return message || (error instanceof Error ? error.name : 'error');
}

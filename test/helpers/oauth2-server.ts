/** A tiny OAuth2 token endpoint (node:http) serving the client-credentials and refresh-token grants, for XOAUTH2 tests. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TokenServerOptions {
  clientId: string;
  clientSecret: string;
  /** The scope the client-credentials grant must ask for. */
  scope?: string;
  /** The refresh token the refresh-token grant must present. */
  refreshToken?: string;
  /** expires_in of issued tokens, seconds (default 3600). */
  expiresIn?: number;
  /** Hand out a new refresh token with every refresh-token grant and accept only the newest (as Microsoft does). */
  rotateRefreshTokens?: boolean;
}

export interface TokenServer {
  /** http://127.0.0.1:PORT/token */
  readonly url: string;
  /** The form fields of every request, in order. */
  readonly requests: Record<string, string>[];
  /** Access tokens issued, in order. */
  readonly issued: string[];
  /** Whether the SMTP server should accept this token (issued and not revoked). */
  accepts(token: string): boolean;
  revoke(token: string): void;
  setClientSecret(secret: string): void;
  /** Answer every request with this HTTP status (e.g. 503), until null. */
  setFailure(status: number | null): void;
  close(): Promise<void>;
}

export async function startTokenServer(opts: TokenServerOptions): Promise<TokenServer> {
  const requests: Record<string, string>[] = [];
  const issued: string[] = [];
  const revoked = new Set<string>();
  let clientSecret = opts.clientSecret;
  let failure: number | null = null;
  let refreshToken = opts.refreshToken;
  let rotations = 0;

  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const answer = (status: number, json: unknown) => {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(json));
      };
      const form = Object.fromEntries(new URLSearchParams(body));
      requests.push(form);
      if (failure !== null) return answer(failure, { error: 'temporarily_unavailable' });
      if (
        req.method !== 'POST' ||
        req.url !== '/token' ||
        !String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded')
      ) {
        return answer(400, { error: 'invalid_request' });
      }
      if (form.client_id !== opts.clientId || form.client_secret !== clientSecret) {
        return answer(401, { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.' });
      }
      if (form.grant_type === 'client_credentials') {
        if (opts.scope === undefined || form.scope !== opts.scope) return answer(400, { error: 'invalid_scope' });
      } else if (form.grant_type === 'refresh_token') {
        if (refreshToken === undefined || form.refresh_token !== refreshToken) return answer(400, { error: 'invalid_grant' });
      } else {
        return answer(400, { error: 'unsupported_grant_type' });
      }
      const token = `access-token-${issued.length + 1}-${Math.random().toString(36).slice(2)}`;
      issued.push(token);
      const rotated = opts.rotateRefreshTokens && form.grant_type === 'refresh_token' ? `rotated-refresh-token-${++rotations}` : undefined;
      if (rotated) refreshToken = rotated;
      return answer(200, {
        token_type: 'Bearer',
        access_token: token,
        expires_in: opts.expiresIn ?? 3600,
        ...(rotated ? { refresh_token: rotated } : {}),
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/token`,
    requests,
    issued,
    accepts: (token) => issued.includes(token) && !revoked.has(token),
    revoke: (token) => void revoked.add(token),
    setClientSecret: (secret) => {
      clientSecret = secret;
    },
    setFailure: (status) => {
      failure = status;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

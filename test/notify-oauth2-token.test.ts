import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import type { MailOAuth2Config } from '../src/config/types.ts';
import { OAuth2TokenError, OAuth2TokenSource, TOKEN_EXPIRY_MARGIN_MS } from '../src/notify/oauth2-token.ts';
import { ROTATING_VALUES_KEPT, scrubSecrets, secrets } from '../src/redact/secrets.ts';
import { freePort } from '../src/runtime/private-redis.ts';
import { startTokenServer, type TokenServer } from './helpers/oauth2-server.ts';
import { withOverrides, type Overrides } from './helpers/overrides.ts';

const base = { user: 'alerts@example.com', clientId: 'app', clientSecret: 'Secret-Of-The-App' };

async function refusal(source: OAuth2TokenSource): Promise<OAuth2TokenError> {
  try {
    await source.token();
  } catch (error) {
    assert.ok(error instanceof OAuth2TokenError, `expected OAuth2TokenError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the token request to fail');
}

describe('OAuth2 token source (against a local token endpoint, clock injected)', () => {
  let server: TokenServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const config = (overrides: Overrides<MailOAuth2Config> = {}): MailOAuth2Config =>
    withOverrides({ ...base, tokenUrl: server!.url, scope: 'mail.send' }, overrides);

  it('caches a token until shortly before expires_in, then fetches a new one', async () => {
    server = await startTokenServer({ ...base, scope: 'mail.send', expiresIn: 3600 });
    let now = 1_000_000;
    const source = new OAuth2TokenSource(config(), { now: () => now });
    const first = await source.token();
    now += 3600_000 - TOKEN_EXPIRY_MARGIN_MS - 1;
    assert.equal((await source.token()).accessToken, first.accessToken, 'reused within its life');
    now += 2;
    const second = await source.token();
    assert.notEqual(second.accessToken, first.accessToken, 'renewed a minute before it expires');
    assert.equal(server.requests.length, 2);
  });

  it('uses a short-lived token for half its life; concurrent callers share one request; renew fetches at once', async () => {
    server = await startTokenServer({ ...base, scope: 'mail.send', expiresIn: 60 });
    let now = 0;
    const source = new OAuth2TokenSource(config(), { now: () => now });
    const [a, b, c] = await Promise.all([source.token(), source.token(), source.token()]);
    assert.equal(server.requests.length, 1, 'one request for three callers');
    assert.ok(a.accessToken === b.accessToken && b.accessToken === c.accessToken);
    now = 29_000;
    assert.equal((await source.token()).accessToken, a.accessToken);
    now = 31_000;
    assert.notEqual((await source.token()).accessToken, a.accessToken);
    const renewed = await source.token(true);
    assert.equal(server.requests.length, 3, 'renew does not trust the cache');
    assert.equal(renewed.accessToken, server.issued[2]);
  });

  it('keeps the newest refresh token when the endpoint rotates them; every token is registered as a secret', async () => {
    server = await startTokenServer({ ...base, refreshToken: 'first-refresh-token', rotateRefreshTokens: true });
    const source = new OAuth2TokenSource(config({ scope: undefined, refreshToken: 'first-refresh-token' }));
    const first = await source.token();
    await source.token(true);
    await source.token(true);
    assert.deepEqual(
      server.requests.map((r) => r.refresh_token),
      ['first-refresh-token', 'rotated-refresh-token-1', 'rotated-refresh-token-2'],
    );
    assert.equal(scrubSecrets(`token ${first.accessToken} and rotated-refresh-token-1`), 'token *** and ***');
  });

  it('renewing the token again and again does not grow the process-wide secret list (old tokens rotate out)', async () => {
    server = await startTokenServer({ ...base, refreshToken: 'first-refresh-token', rotateRefreshTokens: true });
    const source = new OAuth2TokenSource(config({ scope: undefined, refreshToken: 'first-refresh-token' }));
    await source.token();
    const before = secrets.size;
    for (let i = 0; i < 30; i++) await source.token(true);
    assert.ok(secrets.size - before <= 2 * ROTATING_VALUES_KEPT, `grew by ${secrets.size - before} after 30 renewals`);
    const newest = server.issued.at(-1)!;
    assert.equal(scrubSecrets(`token ${newest} refresh rotated-refresh-token-30`), 'token *** refresh ***');
  });

  it('a refusal names the key to change; an outage is temporary', async () => {
    server = await startTokenServer({ ...base, scope: 'mail.send', refreshToken: 'good-refresh-token' });
    const wrongSecret = await refusal(new OAuth2TokenSource(config({ clientSecret: 'not-the-secret' })));
    assert.equal(wrongSecret.refused, true);
    assert.match(
      wrongSecret.message,
      /refused the client-credentials grant \(401 invalid_client: AADSTS7000215: Invalid client secret provided\.\): check mail\.oauth2\.clientId and mail\.oauth2\.clientSecret/,
    );
    assert.doesNotMatch(wrongSecret.message, /not-the-secret/);

    const wrongScope = await refusal(new OAuth2TokenSource(config({ scope: 'other' })));
    assert.match(wrongScope.message, /invalid_scope\): check mail\.oauth2\.scope/);
    const revoked = await refusal(new OAuth2TokenSource(config({ scope: undefined, refreshToken: 'revoked-refresh-token' })));
    assert.match(revoked.message, /refresh-token grant \(400 invalid_grant\): check mail\.oauth2\.refreshToken \(expired or revoked/);

    server.setFailure(503);
    const down = await refusal(new OAuth2TokenSource(config()));
    assert.equal(down.refused, false);
    const unreachable = await refusal(new OAuth2TokenSource(config({ tokenUrl: `http://127.0.0.1:${await freePort()}/token` })));
    assert.equal(unreachable.refused, false);
    assert.match(unreachable.message, /not reachable: .*ECONNREFUSED/);
  });

  it('an answer larger than 64 KiB is not read whole: a wrong tokenUrl (200) or a failing endpoint (503)', async () => {
    let sentBytes = 0;
    let status = 200;
    const big = createServer((req, res) => {
      req.resume();
      res.writeHead(status, { 'Content-Type': 'application/json' });
      const chunk = `${' '.repeat(64 * 1024)}`;
      // Up to 64 MiB, written as the client reads: a reader that stops early stops the writing too.
      let left = 1024;
      const write = () => {
        while (left > 0) {
          left -= 1;
          sentBytes += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', write);
        }
        res.end();
      };
      res.on('close', () => {
        left = 0;
      });
      write();
    });
    await new Promise<void>((resolve) => big.listen(0, '127.0.0.1', resolve));
    try {
      const tokenUrl = `http://127.0.0.1:${(big.address() as AddressInfo).port}/token`;
      const wrongUrl = await refusal(new OAuth2TokenSource({ ...base, tokenUrl, scope: 'mail.send' }));
      assert.match(wrongUrl.message, /answer is larger than 64 KiB: check mail\.oauth2\.tokenUrl/);
      assert.equal(wrongUrl.refused, true);
      assert.ok(sentBytes < 32 * 1024 * 1024, `the rest was not read (${sentBytes} bytes sent)`);
      status = 503;
      const failing = await refusal(new OAuth2TokenSource({ ...base, tokenUrl, scope: 'mail.send' }));
      assert.equal(failing.refused, false, failing.message);
    } finally {
      big.closeAllConnections();
      await new Promise<void>((resolve) => big.close(() => resolve()));
    }
  });
});

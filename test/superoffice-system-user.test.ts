import assert from 'node:assert/strict';
import { verify } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import type { PollErrorKind } from '../src/core/model.ts';
import { createSuperOfficeClient, type SuperOfficeClient } from '../src/superoffice/client.ts';
import { AuthError, MalformedResponseError, SuperOfficeError, SuperOfficeInBandError, TransportError } from '../src/superoffice/errors.ts';
import { loginTimestamp, signSystemUserToken, TICKET_CLAIM } from '../src/superoffice/system-user-login.ts';
import { ROTATING_VALUES_KEPT, scrubSecrets, secrets as processSecrets } from '../src/redact/secrets.ts';
import { selfSignedCertificate } from '../src/simulator/certificate.ts';
import { leaked, onlineApp, onlineConfig, onlineSecrets, rsaKeyValueXml, simulatorSystemUser } from './helpers/online.ts';
import { usingSimulator } from './helpers/simulator.ts';

/** The system user login against the simulator over real HTTP: one login per ticket lifetime, and every way it can fail. */

const app = onlineApp('client');
const other = onlineApp('other');
const withApp = { systemUser: simulatorSystemUser(app) };

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail('expected a rejection');
}

/** A stand-in login service that answers every request with `answer`. */
async function fakeLoginServer(answer: (res: http.ServerResponse) => void): Promise<{ origin: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => answer(res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

describe('the signed system user token', () => {
  it('is TOKEN.yyyyMMddHHmm (UTC) and a base64 RSA-SHA256 signature of that', () => {
    assert.equal(loginTimestamp(Date.UTC(2026, 0, 2, 3, 4, 59)), '202601020304');
    const signedToken = signSystemUserToken('ABC.123', app.privateKey, Date.UTC(2026, 11, 31, 23, 59));
    const [signed, signature] = [signedToken.slice(0, signedToken.lastIndexOf('.')), signedToken.slice(signedToken.lastIndexOf('.') + 1)];
    assert.equal(signed, 'ABC.123.202612312359');
    assert.ok(verify('sha256', Buffer.from(signed), app.publicKey, Buffer.from(signature, 'base64')));
  });
});

describe('system user login against the simulator', () => {
  it('logs in once and uses the ticket like a configured one (Credentials/Ticket and ApplicationToken headers)', async () => {
    await usingSimulator(withApp, async (sim) => {
      sim.upsertTask({ id: 5, associateId: 101, name: 'Online task' });
      const client = createSuperOfficeClient(onlineConfig(sim, app));
      const info = await client.authenticate();
      assert.equal(info.method, 'system-user');
      assert.equal(info.systemUser?.contextIdentifier, 'Cust1');
      assert.equal(info.systemUser?.claim, TICKET_CLAIM);
      assert.equal(info.systemUser?.verified, true);
      assert.equal(info.systemUser?.netserverUrl, `${sim.url}/Remote/Services85/`);
      assert.equal(info.systemUser?.webapiUrl, `${sim.url}/api/`);
      assert.ok(!JSON.stringify(info).includes('7T:'), 'the ticket is not part of what check prints');
      for (let i = 0; i < 5; i++)
        assert.deepEqual(
          (await client.getBatchTaskInfosByAssociates([101])).map((t) => t.id),
          [5],
        );
      await Promise.all(Array.from({ length: 8 }, (_, i) => client.getBatchTaskInfosByAssociates([100 + i])));
      assert.equal(sim.stats.systemUserLogins, 1, 'one login for the ticket lifetime, not one per poll');
      const tickets = new Set(sim.stats.requests.map((r) => r.ticket));
      assert.equal(tickets.size, 1);
      const [ticket] = tickets;
      assert.ok(ticket && sim.stats.systemUserSecrets.includes(ticket), 'the ticket from the JWT claim');
      assert.ok(sim.stats.requests.every((r) => r.applicationToken === app.clientSecret && r.headersInSoapHeader));
    });
  });

  it('signs with the RSAKeyValue XML key SuperOffice hands out as well as with PEM', async () => {
    await usingSimulator(withApp, async (sim) => {
      const client = createSuperOfficeClient(onlineConfig(sim, app, { systemUser: { privateKey: rsaKeyValueXml(app.privateKey) } }));
      assert.equal((await client.authenticate()).systemUser?.verified, true);
      assert.equal(sim.stats.systemUserLogins, 1);
    });
  });

  it('concurrent polls and chunks share one pending login, first and after the ticket expired', async () => {
    await usingSimulator({ ...withApp, expiredTicketStyle: 'fault' }, async (sim) => {
      const client = createSuperOfficeClient(onlineConfig(sim, app, { associatesPerRequest: 1, maxConcurrentRequests: 3 }));
      const poll = () => client.getBatchTaskInfosByAssociates([1, 2, 3, 4, 5, 6]);
      await Promise.all([poll(), poll(), poll(), poll()]);
      assert.equal(sim.stats.systemUserLogins, 1);
      sim.expireTickets();
      await Promise.all([poll(), poll(), poll(), poll()]);
      assert.equal(sim.stats.systemUserLogins, 2, 'every refused chunk of every poll waited for the same re-login');
    });
  });

  for (const style of ['in-band', 'fault'] as const) {
    it(`a refused ticket (${style}) means exactly one re-login and one retry`, async () => {
      await usingSimulator({ ...withApp, expiredTicketStyle: style }, async (sim) => {
        sim.upsertTask({ id: 9, associateId: 1, name: 'Survives' });
        const errors: PollErrorKind[] = [];
        const client = createSuperOfficeClient(onlineConfig(sim, app), { onCallError: (k) => errors.push(k) });
        await client.getBatchTaskInfosByAssociates([1]);
        sim.expireTickets();
        assert.deepEqual(
          (await client.getBatchTaskInfosByAssociates([1])).map((t) => t.id),
          [9],
        );
        assert.equal(sim.stats.systemUserLogins, 2);
        assert.equal(sim.stats.calls, 3, 'first call, refused call, retried call');
        for (let i = 0; i < 3; i++) await client.getBatchTaskInfosByAssociates([1]);
        assert.equal(sim.stats.systemUserLogins, 2, 'the new ticket is kept');
        assert.deepEqual(errors, []);
      });
    });
  }

  it('a refusal that is not about the ticket earns no login (each login adds a credentials row)', async () => {
    await usingSimulator(withApp, async (sim) => {
      const client = createSuperOfficeClient(onlineConfig(sim, app));
      await client.getBatchTaskInfosByAssociates([1]);
      sim.injectFault({ type: 'in-band', times: 3 });
      for (let i = 0; i < 3; i++) assert.ok((await rejection(client.getBatchTaskInfosByAssociates([1]))) instanceof SuperOfficeInBandError);
      assert.equal(sim.stats.systemUserLogins, 1);
      assert.deepEqual(await client.getBatchTaskInfosByAssociates([1]), []);
    });
  });

  it('a ticket refused before it ever worked is replaced at most once per cooldown, not once per poll', async () => {
    await usingSimulator(withApp, async (sim) => {
      let now = Date.now();
      const client = createSuperOfficeClient(onlineConfig(sim, app), { now: () => now, reloginCooldownMs: 5 * 60_000 });
      await client.authenticate();
      sim.expireTickets();
      for (let i = 0; i < 3; i++) {
        const error = await rejection(client.getBatchTaskInfosByAssociates([1]));
        assert.ok(error instanceof AuthError, String(error));
        assert.match(error.message, /before any call succeeded with it .* not logging in again for \d+ s/);
      }
      assert.equal(sim.stats.systemUserLogins, 1);
      now += 5 * 60_000;
      assert.deepEqual(await client.getBatchTaskInfosByAssociates([1]), []);
      assert.equal(sim.stats.systemUserLogins, 2);
    });
  });
});

describe('system user login refused: IsSuccessful=false is an AuthError quoting ErrorMessage', () => {
  const cases: {
    name: string;
    config: (sim: Parameters<typeof onlineConfig>[0]) => ReturnType<typeof onlineConfig>;
    message: RegExp;
    now?: number;
  }[] = [
    {
      name: 'a bad signature (the private key does not belong to the registered app)',
      config: (sim) => onlineConfig(sim, app, { systemUser: { privateKey: other.privateKeyPem } }),
      message: /The signature of the system user token is not valid/,
    },
    {
      name: 'an unknown system user token',
      config: (sim) => onlineConfig(sim, app, { systemUser: { token: 'SOMEONE-ELSES-TOKEN' } }),
      message: /Unknown system user token/,
    },
    {
      name: 'the wrong client secret',
      config: (sim) => onlineConfig(sim, app, { applicationToken: 'not-the-client-secret' }),
      message: /Invalid application token/,
    },
    {
      name: 'a clock two hours off (stale time stamp)',
      config: (sim) => onlineConfig(sim, app),
      now: Date.now() - 2 * 60 * 60_000,
      message: /has expired \(time stamp out of range\)/,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      await usingSimulator(withApp, async (sim) => {
        const kinds: PollErrorKind[] = [];
        const client = createSuperOfficeClient(c.config(sim), {
          onCallError: (k) => kinds.push(k),
          ...(c.now !== undefined ? { now: () => c.now! } : {}),
        });
        const error = await rejection(client.authenticate());
        assert.ok(error instanceof AuthError, String(error));
        assert.equal(error.kind, 'auth');
        assert.match(error.message, /SuperOffice refused the system user login for tenant Cust1: /);
        assert.match(error.message, c.message);
        assert.ok(
          (await rejection(client.getBatchTaskInfosByAssociates([1]))) instanceof AuthError,
          'a poll logs in again and is refused the same way',
        );
        assert.equal(sim.stats.calls, 0, 'no Batch call without a ticket');
        assert.deepEqual(kinds, ['auth', 'auth']);
      });
    });
  }
});

describe('the JWT is checked when jwtCertificate is set', () => {
  for (const [fault, message] of [
    ['expired', /rejected the JWT from SuperOffice: it has expired/],
    ['foreign', /rejected the JWT from SuperOffice: its signature does not verify with the certificate simulator-jwt\.pem/],
    ['bad-signature', /its signature does not verify/],
  ] as const) {
    it(`rejects ${fault === 'foreign' ? 'a JWT signed by someone else' : `a JWT with ${fault === 'expired' ? 'exp in the past' : 'a tampered signature'}`}`, async () => {
      await usingSimulator(withApp, async (sim) => {
        sim.setJwtFault(fault);
        const client = createSuperOfficeClient(onlineConfig(sim, app));
        const error = await rejection(client.getBatchTaskInfosByAssociates([1]));
        assert.ok(error instanceof AuthError, String(error));
        assert.match(error.message, message);
        assert.equal(sim.stats.calls, 0, 'the ticket of a rejected JWT is never used');
        sim.setJwtFault(null);
        assert.deepEqual(await client.getBatchTaskInfosByAssociates([1]), [], 'the next login is accepted');
        assert.equal(sim.stats.systemUserLogins, 2);
      });
    });
  }

  it('rejects every JWT when the configured certificate is not the signer', async () => {
    await usingSimulator(withApp, async (sim) => {
      const wrong = selfSignedCertificate(other.publicKey, other.privateKey, 'not SuperOffice');
      const client = createSuperOfficeClient(onlineConfig(sim, app, { systemUser: { jwtCertificate: { file: 'wrong.pem', pem: wrong } } }));
      const error = await rejection(client.authenticate());
      assert.ok(error instanceof AuthError);
      assert.match(error.message, /does not verify with the certificate wrong\.pem/);
    });
  });

  it('without jwtCertificate the JWT is only decoded (a tampered signature goes unnoticed; check says it is not verified)', async () => {
    await usingSimulator(withApp, async (sim) => {
      sim.setJwtFault('bad-signature');
      const client = createSuperOfficeClient(onlineConfig(sim, app, { verify: false }));
      const info = await client.authenticate();
      assert.equal(info.systemUser?.verified, false);
      assert.deepEqual(await client.getBatchTaskInfosByAssociates([1]), []);
    });
  });

  it('a JWT without the ticket claim is a malformed answer', async () => {
    await usingSimulator(withApp, async (sim) => {
      sim.setJwtFault('no-ticket');
      const error = await rejection(createSuperOfficeClient(onlineConfig(sim, app)).authenticate());
      assert.ok(error instanceof MalformedResponseError);
      assert.match(error.message, /carries no http:\/\/schemes\.superoffice\.net\/identity\/ticket claim/);
    });
  });
});

describe('a login service that misbehaves gives a typed error within superoffice.timeout', () => {
  const cases: { name: string; answer: (res: http.ServerResponse) => void; expect: (error: unknown) => void }[] = [
    {
      name: 'HTTP 200 that is not JSON',
      answer: (res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html>login</html>'),
      expect: (error) => {
        assert.ok(error instanceof MalformedResponseError);
        assert.match(
          error.message,
          /system user login: the answer from http:\/\/127\.0\.0\.1:\d+\/login\/api\/PartnerSystemUser\/Authenticate is not JSON/,
        );
      },
    },
    {
      name: 'JSON of another shape',
      answer: (res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true}'),
      expect: (error) => {
        assert.ok(error instanceof MalformedResponseError);
        assert.match(error.message, /expected IsSuccessful, Token, ErrorMessage/);
      },
    },
    {
      name: 'an HTTP 502 error page',
      answer: (res) => res.writeHead(502, { 'Content-Type': 'text/html' }).end('<h1>Bad gateway</h1>'),
      expect: (error) => {
        assert.ok(error instanceof TransportError);
        assert.equal(error.reason, 'http-status');
        assert.equal(error.status, 502);
      },
    },
    {
      name: 'an answer of several megabytes',
      answer: (res) => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(`{"IsSuccessful": true, "Token": "${'x'.repeat(3 * 1024 * 1024)}"}`);
      },
      expect: (error) => {
        assert.ok(error instanceof TransportError);
        assert.match(error.message, /exceeds 1048576 bytes/);
      },
    },
    {
      name: 'no answer at all',
      answer: () => undefined,
      expect: (error) => {
        assert.ok(error instanceof TransportError);
        assert.equal(error.reason, 'timeout');
      },
    },
    {
      name: 'IsSuccessful=false with a hostile ErrorMessage (control characters, a long text)',
      answer: (res) =>
        res
          .writeHead(401, { 'Content-Type': 'application/json' })
          .end(JSON.stringify({ IsSuccessful: false, Token: null, ErrorMessage: `bad\r\nInjected: header ${'y'.repeat(1000)}` })),
      expect: (error) => {
        assert.ok(error instanceof AuthError);
        assert.match(error.message, /refused the system user login for tenant Cust1: bad Injected: header y+\.\.\./);
        assert.ok(!/[\r\n]/.test(error.message));
        assert.ok(error.message.length < 600);
      },
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const server = await fakeLoginServer(c.answer);
      try {
        await usingSimulator(withApp, async (sim) => {
          const config = onlineConfig(sim, app, { timeout: 500, systemUser: { loginUrl: `${server.origin}/login` } });
          const started = Date.now();
          const error = await rejection(createSuperOfficeClient(config).authenticate());
          assert.ok(Date.now() - started < 2500, 'bounded by superoffice.timeout');
          c.expect(error);
        });
      } finally {
        await server.close();
      }
    });
  }

  it('a login service that refuses connections', async () => {
    const server = await fakeLoginServer(() => undefined);
    const origin = server.origin;
    await server.close();
    await usingSimulator(withApp, async (sim) => {
      const error = await rejection(
        createSuperOfficeClient(onlineConfig(sim, app, { systemUser: { loginUrl: `${origin}/login` } })).authenticate(),
      );
      assert.ok(error instanceof TransportError);
      assert.equal(error.reason, 'refused');
    });
  });
});

describe('secrets of the system user login', () => {
  it('many re-logins keep the process-wide secret list bounded; the newest ticket is still scrubbed', async () => {
    await usingSimulator({ ...withApp, expiredTicketStyle: 'fault' }, async (sim) => {
      const client = createSuperOfficeClient(onlineConfig(sim, app));
      await client.getBatchTaskInfosByAssociates([1]);
      const before = processSecrets.size;
      for (let i = 0; i < 12; i++) {
        sim.expireTickets();
        await client.getBatchTaskInfosByAssociates([1]);
      }
      assert.equal(sim.stats.systemUserLogins, 13);
      // Each login issues a signed token, a JWT and a ticket: each kind is one rotating slot.
      assert.ok(
        processSecrets.size - before <= 4 * (ROTATING_VALUES_KEPT - 1),
        `grew by ${processSecrets.size - before} after 12 re-logins`,
      );
      const newest = sim.stats.systemUserSecrets.at(-1)!;
      assert.equal(scrubSecrets(`echo ${newest} echo`), 'echo *** echo');
    });
  });

  it('never appear in errors or client logs: key, token, client secret, signed token, JWT, ticket', async () => {
    await usingSimulator(withApp, async (sim) => {
      const logged: unknown[] = [];
      const errors: unknown[] = [];
      const log = (...args: unknown[]) => logged.push(args);
      const collect = async (p: Promise<unknown>) => errors.push(await rejection(p));
      const client: SuperOfficeClient = createSuperOfficeClient(onlineConfig(sim, app, { timeout: 300 }), { log });
      await client.getBatchTaskInfosByAssociates([1]);
      for (const type of ['http500', 'refuse', 'soap-fault', 'in-band', 'truncated'] as const) {
        sim.injectFault({ type, times: 2 });
        await collect(client.getBatchTaskInfosByAssociates([1]));
        sim.clearFaults();
      }
      sim.expireTickets();
      await client.getBatchTaskInfosByAssociates([1]);
      for (const fault of ['expired', 'foreign', 'bad-signature', 'no-ticket'] as const) {
        sim.setJwtFault(fault);
        sim.expireTickets();
        await collect(client.getBatchTaskInfosByAssociates([1]));
      }
      sim.setJwtFault(null);
      await collect(
        createSuperOfficeClient(onlineConfig(sim, app, { systemUser: { privateKey: other.privateKeyPem } }), { log }).authenticate(),
      );
      assert.equal(errors.length, 10);
      assert.ok(sim.stats.systemUserSecrets.length >= 12, 'signed tokens, JWTs and tickets were issued');
      const secrets = onlineSecrets(app, sim);
      for (const error of errors) {
        assert.ok(error instanceof SuperOfficeError);
        const text = `${error.message}\n${JSON.stringify(error)}\n${String(error.stack)}`;
        assert.deepEqual(leaked(text, secrets), [], `${error.name} leaks a secret: ${error.message}`);
      }
      assert.deepEqual(leaked(JSON.stringify(logged), secrets), []);
    });
  });
});

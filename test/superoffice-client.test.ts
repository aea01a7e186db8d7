import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import type { PollErrorKind } from '../src/core/model.ts';
import { createSuperOfficeClient } from '../src/superoffice/client.ts';
import {
  AuthError,
  MalformedResponseError,
  SoapFaultError,
  SuperOfficeError,
  SuperOfficeInBandError,
  TransportError,
} from '../src/superoffice/errors.ts';
import { simulatorConfig, usingSimulator } from './helpers/simulator.ts';

const STATIC = '7T:static-ticket-for-tests==';

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  assert.fail('expected a rejection');
}

describe('SuperOffice client against the simulator', () => {
  it('requests associates in chunks of associatesPerRequest', async () => {
    await usingSimulator({ staticTickets: [STATIC] }, async (sim) => {
      sim.upsertTask({ id: 1, associateId: 1, name: 'First' });
      sim.upsertTask({ id: 2, associateId: 150, name: 'Middle' });
      sim.upsertTask({ id: 3, associateId: 250, name: 'Last' });
      sim.upsertTask({ id: 4, associateId: 999, name: 'NotAsked' });
      const client = createSuperOfficeClient(simulatorConfig(sim.url, { ticket: STATIC, username: undefined, password: undefined }));
      const ids = Array.from({ length: 250 }, (_, i) => i + 1);
      const tasks = await client.getBatchTaskInfosByAssociates(ids);
      assert.equal(sim.stats.calls, 3);
      assert.deepEqual(
        sim.stats.requests.map((r) => r.associateIds.length).sort((a, b) => a - b),
        [50, 100, 100],
      );
      assert.deepEqual(
        sim.stats.requests.flatMap((r) => r.associateIds).sort((a, b) => a - b),
        ids,
      );
      assert.deepEqual(tasks.map((t) => t.name).sort(), ['First', 'Last', 'Middle']);
    });
  });

  it('keeps at most maxConcurrentRequests calls in flight', async () => {
    await usingSimulator({ staticTickets: [STATIC] }, async (sim) => {
      sim.injectFault({ type: 'slow', delayMs: 150, times: 10 });
      const client = createSuperOfficeClient(
        simulatorConfig(sim.url, { ticket: STATIC, associatesPerRequest: 10, maxConcurrentRequests: 3 }),
      );
      const started = Date.now();
      await client.getBatchTaskInfosByAssociates(Array.from({ length: 100 }, (_, i) => i + 1));
      assert.equal(sim.stats.calls, 10);
      assert.equal(sim.stats.maxInFlight, 3, 'the limit is reached and never exceeded');
      assert.ok(Date.now() - started >= 4 * 150 - 20, '10 slow calls, 3 at a time, take at least 4 rounds');
    });
  });

  it('shares one limiter between concurrent polls of the same client', async () => {
    await usingSimulator({ staticTickets: [STATIC] }, async (sim) => {
      sim.injectFault({ type: 'slow', delayMs: 100, times: 6 });
      const client = createSuperOfficeClient(simulatorConfig(sim.url, { ticket: STATIC, maxConcurrentRequests: 2 }));
      await Promise.all(Array.from({ length: 6 }, (_, i) => client.getBatchTaskInfosByAssociates([i + 1])));
      assert.equal(sim.stats.maxInFlight, 2);
    });
  });

  it('puts ApplicationToken and Credentials/Ticket inside soap:Header', async () => {
    await usingSimulator({ applicationToken: 'app-token-1', staticTickets: [STATIC] }, async (sim) => {
      sim.upsertTask({ id: 10, associateId: 5, name: 'Visible' });
      const client = createSuperOfficeClient(simulatorConfig(sim.url, { ticket: STATIC, applicationToken: 'app-token-1' }));
      const tasks = await client.getBatchTaskInfosByAssociates([5]);
      assert.deepEqual(
        tasks.map((t) => t.id),
        [10],
      );
      assert.deepEqual(sim.stats.requests, [
        { associateIds: [5], ticket: STATIC, applicationToken: 'app-token-1', headersInSoapHeader: true },
      ]);
    });
  });

  it('a wrong application token is SuperOffice refusing the call', async () => {
    await usingSimulator({ applicationToken: 'right', staticTickets: [STATIC] }, async (sim) => {
      const client = createSuperOfficeClient(simulatorConfig(sim.url, { ticket: STATIC, applicationToken: 'wrong', username: undefined }));
      const err = await rejection(client.getBatchTaskInfosByAssociates([1]));
      assert.ok(err instanceof SuperOfficeInBandError);
      assert.equal(err.exceptionType, 'SoApplicationTokenException');
    });
  });

  it('authenticates once and reuses the ticket for many calls', async () => {
    await usingSimulator({}, async (sim) => {
      const client = createSuperOfficeClient(simulatorConfig(sim.url));
      for (let i = 0; i < 4; i++) await client.getBatchTaskInfosByAssociates([1, 2]);
      await Promise.all(Array.from({ length: 5 }, () => client.getBatchTaskInfosByAssociates([3])));
      assert.equal(sim.stats.authCalls, 1);
      assert.equal(sim.stats.calls, 9);
      assert.equal(new Set(sim.stats.requests.map((r) => r.ticket)).size, 1);
    });
  });

  for (const style of ['in-band', 'fault'] as const) {
    it(`authenticates again and retries once when the ticket expired (${style} refusal)`, async () => {
      await usingSimulator({ expiredTicketStyle: style }, async (sim) => {
        sim.upsertTask({ id: 7, associateId: 1, name: 'Survives' });
        const warnings: string[] = [];
        const errors: PollErrorKind[] = [];
        const client = createSuperOfficeClient(simulatorConfig(sim.url), {
          log: (level, msg) => {
            if (level === 'warn') warnings.push(msg);
          },
          onCallError: (kind) => errors.push(kind),
        });
        await client.getBatchTaskInfosByAssociates([1]);
        sim.expireTickets();
        const tasks = await client.getBatchTaskInfosByAssociates([1]);
        assert.deepEqual(
          tasks.map((t) => t.id),
          [7],
        );
        assert.equal(sim.stats.authCalls, 2);
        assert.equal(sim.stats.calls, 3, 'first call, refused call, retried call');
        const [a, b, c] = sim.stats.requests.map((r) => r.ticket);
        assert.equal(a, b);
        assert.notEqual(b, c);
        assert.equal(warnings.length, 1);
        assert.deepEqual(errors, [], 'a healed refusal is not a failed call');
      });
    });
  }

  it('10 concurrent calls after expiry share one authentication', async () => {
    await usingSimulator({}, async (sim) => {
      const client = createSuperOfficeClient(simulatorConfig(sim.url, { maxConcurrentRequests: 4 }));
      await client.getBatchTaskInfosByAssociates([1]);
      sim.expireTickets();
      await Promise.all(Array.from({ length: 10 }, (_, i) => client.getBatchTaskInfosByAssociates([i + 1])));
      assert.equal(sim.stats.authCalls, 2);
    });
  });

  it('concurrent first calls share one authentication', async () => {
    await usingSimulator({}, async (sim) => {
      const client = createSuperOfficeClient(simulatorConfig(sim.url));
      await Promise.all(Array.from({ length: 10 }, (_, i) => client.getBatchTaskInfosByAssociates([i + 1])));
      assert.equal(sim.stats.authCalls, 1);
    });
  });

  it('a wrong password is an AuthError naming the user', async () => {
    await usingSimulator({}, async (sim) => {
      const kinds: PollErrorKind[] = [];
      const client = createSuperOfficeClient(simulatorConfig(sim.url, { password: 'not-the-password' }), {
        onCallError: (k) => kinds.push(k),
      });
      const err = await rejection(client.authenticate());
      assert.ok(err instanceof AuthError);
      assert.equal(err.kind, 'auth');
      assert.match(err.message, /rejected username\/password for user demo/);
      assert.ok(!err.message.includes('not-the-password'));
      assert.ok(err instanceof AuthError);
      const again = await rejection(client.getBatchTaskInfosByAssociates([1]));
      assert.ok(again instanceof AuthError);
      assert.equal(sim.stats.calls, 0, 'no Batch call without a ticket');
      assert.deepEqual(kinds, ['auth', 'auth']);
    });
  });

  it('an expired static ticket is an AuthError telling to renew it', async () => {
    await usingSimulator({ staticTickets: [STATIC] }, async (sim) => {
      const client = createSuperOfficeClient(simulatorConfig(sim.url, { ticket: STATIC, username: undefined, password: undefined }));
      await client.authenticate();
      assert.deepEqual(await client.getBatchTaskInfosByAssociates([1]), []);
      sim.expireTickets();
      const err = await rejection(client.getBatchTaskInfosByAssociates([1]));
      assert.ok(err instanceof AuthError);
      assert.match(err.message, /superoffice\.ticket/);
      assert.match(err.message, /renew/);
      assert.equal(sim.stats.authCalls, 0);
    });
  });

  it('maps every injected fault to its typed error', async () => {
    await usingSimulator({ staticTickets: [STATIC] }, async (sim) => {
      const kinds: PollErrorKind[] = [];
      const client = createSuperOfficeClient(simulatorConfig(sim.url, { ticket: STATIC, timeout: 300 }), {
        onCallError: (k) => kinds.push(k),
      });
      // With username/password configured a refusal is retried once after authenticating: inject twice.
      sim.injectFault({ type: 'http500' });
      const http500 = await rejection(client.getBatchTaskInfosByAssociates([1]));
      assert.ok(http500 instanceof TransportError);
      assert.equal(http500.reason, 'http-status');
      assert.equal(http500.status, 500);

      sim.injectFault({ type: 'refuse' });
      const reset = await rejection(client.getBatchTaskInfosByAssociates([1]));
      assert.ok(reset instanceof TransportError);
      assert.equal(reset.reason, 'reset');

      sim.injectFault({ type: 'slow', delayMs: 1500 });
      const started = Date.now();
      const timeout = await rejection(client.getBatchTaskInfosByAssociates([1]));
      assert.ok(timeout instanceof TransportError);
      assert.equal(timeout.reason, 'timeout');
      assert.ok(Date.now() - started < 1200, 'gave up at the timeout, not when the answer came');

      sim.injectFault({ type: 'soap-fault', times: 2 });
      const fault = await rejection(client.getBatchTaskInfosByAssociates([1]));
      assert.ok(fault instanceof SoapFaultError);
      assert.equal(fault.faultcode, 'a:InternalServiceFault');
      assert.match(fault.faultstring, /unable to process the request/);
      assert.equal(fault.status, 500);

      sim.injectFault({ type: 'in-band', times: 2 });
      const inBand = await rejection(client.getBatchTaskInfosByAssociates([1]));
      assert.ok(inBand instanceof SuperOfficeInBandError);
      assert.equal(inBand.exceptionType, 'SoDatabaseException');
      assert.match(inBand.message, /Deadlock while reading the batch task table/);
      assert.equal(inBand.friendlyText, 'The database is busy <try again> & later');

      sim.injectFault({ type: 'truncated' });
      const truncated = await rejection(client.getBatchTaskInfosByAssociates([1]));
      assert.ok(truncated instanceof MalformedResponseError);
      assert.match(truncated.message, /not well-formed XML/);

      assert.deepEqual(kinds, ['transport', 'transport', 'transport', 'soap-fault', 'superoffice', 'malformed']);
      assert.deepEqual(await client.getBatchTaskInfosByAssociates([1]), [], 'healthy again once the faults are used up');
    });
  });

  it('with username/password a single fault or in-band error is healed by the one retry', async () => {
    await usingSimulator({}, async (sim) => {
      const client = createSuperOfficeClient(simulatorConfig(sim.url));
      await client.authenticate();
      sim.injectFault({ type: 'soap-fault' });
      assert.deepEqual(await client.getBatchTaskInfosByAssociates([1]), []);
      sim.injectFault({ type: 'in-band' });
      assert.deepEqual(await client.getBatchTaskInfosByAssociates([1]), []);
      assert.equal(sim.stats.authCalls, 3);
      sim.injectFault({ type: 'in-band', times: 2 });
      assert.ok((await rejection(client.getBatchTaskInfosByAssociates([1]))) instanceof SuperOfficeInBandError);
    });
  });

  it('connection refused is a TransportError', async () => {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const client = createSuperOfficeClient(simulatorConfig(`http://127.0.0.1:${port}/Cust1`));
    const err = await rejection(client.getBatchTaskInfosByAssociates([1]));
    assert.ok(err instanceof TransportError);
    assert.equal(err.reason, 'refused');
    assert.equal(err.kind, 'transport');
  });

  it('one failing chunk fails the whole call (no partial task lists)', async () => {
    await usingSimulator({ staticTickets: [STATIC] }, async (sim) => {
      sim.upsertTask({ id: 1, associateId: 1 });
      const client = createSuperOfficeClient(
        simulatorConfig(sim.url, { ticket: STATIC, associatesPerRequest: 1, maxConcurrentRequests: 1 }),
      );
      sim.injectFault({ type: 'http500' });
      const err = await rejection(client.getBatchTaskInfosByAssociates([1, 2, 3]));
      assert.ok(err instanceof TransportError);
      assert.equal(sim.stats.calls, 1, 'chunks still waiting are not sent');
    });
  });

  it('never puts the ticket, password or application token in errors or logs', async () => {
    const ticket = '7T:S3CRET-TICKET-abcdef==';
    const password = 'S3CRET-PASSWORD';
    const appToken = 'S3CRET-APPTOKEN';
    await usingSimulator({ users: { demo: password }, applicationToken: appToken, staticTickets: [ticket] }, async (sim) => {
      const logged: unknown[] = [];
      const log = (...args: unknown[]) => logged.push(args);
      const errors: unknown[] = [];
      const collect = async (p: Promise<unknown>) => errors.push(await rejection(p));

      const good = createSuperOfficeClient(simulatorConfig(sim.url, { ticket, password, applicationToken: appToken, timeout: 300 }), {
        log,
      });
      await good.getBatchTaskInfosByAssociates([1]);
      for (const type of ['http500', 'refuse', 'soap-fault', 'in-band', 'truncated'] as const) {
        sim.injectFault({ type, times: 2 });
        await collect(good.getBatchTaskInfosByAssociates([1]));
        sim.clearFaults();
      }
      sim.injectFault({ type: 'slow', delayMs: 1000 });
      await collect(good.getBatchTaskInfosByAssociates([1]));

      const wrongPassword = createSuperOfficeClient(
        simulatorConfig(sim.url, { password: `${password}-wrong`, applicationToken: appToken }),
        { log },
      );
      await collect(wrongPassword.authenticate());
      const staticOnly = createSuperOfficeClient(
        simulatorConfig(sim.url, { ticket, username: undefined, password: undefined, applicationToken: appToken }),
        { log },
      );
      sim.expireTickets();
      await collect(staticOnly.getBatchTaskInfosByAssociates([1]));

      assert.equal(errors.length, 8);
      const issued = sim.stats.requests.map((r) => r.ticket).filter((t): t is string => !!t);
      for (const err of errors) {
        assert.ok(err instanceof SuperOfficeError);
        const text = `${err.message}\n${JSON.stringify(err)}\n${String(err.stack)}`;
        for (const secret of [ticket, password, appToken, ...issued]) {
          assert.ok(!text.includes(secret), `${err.name} leaks a secret: ${text}`);
        }
      }
      const logText = JSON.stringify(logged);
      for (const secret of [ticket, password, appToken, ...issued]) assert.ok(!logText.includes(secret));
    });
  });
});

import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { SCENARIOS } from '../src/simulator/scenarios.ts';
import { createSuperOfficeClient } from '../src/superoffice/client.ts';
import { MalformedResponseError, TransportError } from '../src/superoffice/errors.ts';
import { TenantStatus } from '../src/superoffice/tenant-status.ts';
import { simulatorConfig, usingSimulator } from './helpers/simulator.ts';

/** superoffice.tenantStatusUrl: GET {url}/{ContextIdentifier} against the simulator and against odd answers. */

const STATIC = '7T:static-ticket-for-status-tests==';

function statusOf(origin: string, options: { now?: () => number; maxCacheMs?: number; contextIdentifier?: string } = {}): TenantStatus {
  return new TenantStatus({
    statusUrl: `${origin}/api/state`,
    contextIdentifier: options.contextIdentifier ?? 'Cust1',
    timeoutMs: 1000,
    ...options,
  });
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail('expected a rejection');
}

async function fakeStatusServer(body: string, status = 200): Promise<{ origin: string; close(): Promise<void> }> {
  const server = http.createServer((_req, res) => res.writeHead(status, { 'Content-Type': 'application/json' }).end(body));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('tenant status against the simulator', () => {
  it('reads Running and a maintenance state; Batch answers 503 during OfflineMaintenance, not during OnlineMaintenance', async () => {
    await usingSimulator({ staticTickets: [STATIC] }, async (sim) => {
      const origin = new URL(sim.url).origin;
      const client = createSuperOfficeClient(simulatorConfig(sim.url, { ticket: STATIC, username: undefined, password: undefined }));
      const before = Date.now();
      const { validUntil, ...running } = await statusOf(origin).current();
      assert.deepEqual(running, { contextIdentifier: 'Cust1', state: 'Running', running: true });
      assert.ok(validUntil !== null && validUntil >= before + 59_000, 'ValidUntil read (the simulator says 60 s)');
      sim.setTenantState('OfflineMaintenance');
      const offline = await statusOf(origin).current();
      assert.equal(offline.state, 'OfflineMaintenance');
      assert.equal(offline.running, false);
      const error = await rejection(client.getBatchTaskInfosByAssociates([1]));
      assert.ok(error instanceof TransportError);
      assert.equal(error.status, 503);
      sim.setTenantState('OnlineMaintenance');
      assert.equal((await statusOf(origin).current()).running, false);
      assert.deepEqual(await client.getBatchTaskInfosByAssociates([1]), [], 'the API is available in OnlineMaintenance');
      sim.setTenantState(null);
      assert.equal((await statusOf(origin).current()).state, 'Running');
    });
  });

  it('caches an answer until ValidUntil, never longer than maxCacheMs; concurrent askers share one request', async () => {
    await usingSimulator({ tenantStateValidMs: 60_000 }, async (sim) => {
      let now = Date.now();
      const status = statusOf(new URL(sim.url).origin, { now: () => now, maxCacheMs: 30_000 });
      await Promise.all([status.current(), status.current(), status.current()]);
      assert.equal(sim.stats.tenantStateCalls, 1);
      sim.setTenantState('OfflineMaintenance');
      now += 29_000;
      assert.equal((await status.current()).state, 'Running', 'still the cached answer');
      assert.equal(sim.stats.tenantStateCalls, 1);
      now += 2000;
      assert.equal((await status.current()).state, 'OfflineMaintenance', 'maxCacheMs bounds a long ValidUntil');
      assert.equal(sim.stats.tenantStateCalls, 2);
    });
    await usingSimulator({ tenantStateValidMs: 1000 }, async (sim) => {
      let now = Date.now();
      const status = statusOf(new URL(sim.url).origin, { now: () => now });
      await status.current();
      now += 1500;
      await status.current();
      assert.equal(sim.stats.tenantStateCalls, 2, 'ValidUntil passed');
    });
  });

  it('a failing endpoint or an unknown tenant is an error (the state is then unknown)', async () => {
    await usingSimulator({}, async (sim) => {
      const origin = new URL(sim.url).origin;
      sim.failTenantState(true);
      const failing = await rejection(statusOf(origin).current());
      assert.ok(failing instanceof TransportError);
      assert.equal(failing.status, 500);
      sim.failTenantState(false);
      const unknown = await rejection(statusOf(origin, { contextIdentifier: 'Cust999' }).current());
      assert.ok(unknown instanceof TransportError);
      assert.equal(unknown.status, 404);
    });
  });

  it('the control endpoint puts the tenant into maintenance and back', async () => {
    await usingSimulator({}, async (sim) => {
      const control = `${new URL(sim.url).origin}/_simulator/tenant-state`;
      assert.equal(await (await fetch(control, { method: 'PUT', body: 'OfflineMaintenance' })).text(), 'OfflineMaintenance\n');
      assert.equal(sim.tenantState(), 'OfflineMaintenance');
      assert.equal((await fetch(control, { method: 'PUT', body: '<script>' })).status, 400);
      assert.equal(await (await fetch(control, { method: 'DELETE' })).text(), 'Running\n');
    });
  });

  it('the maintenance scenario goes offline for a third of every cycle', () => {
    const state = SCENARIOS.maintenance!.tenantState!;
    assert.deepEqual([0, 11, 12, 23, 24, 35, 36, 48].map(state), [
      'Running',
      'Running',
      'OfflineMaintenance',
      'OfflineMaintenance',
      'Running',
      'Running',
      'Running',
      'OfflineMaintenance',
    ]);
  });
});

describe('tenant status: odd answers', () => {
  const cases: { name: string; body: string; status?: number; expect: (result: unknown) => void }[] = [
    {
      name: 'no State',
      body: '{"ContextIdentifier": "Cust1", "IsRunning": true}',
      expect: (error) =>
        assert.ok(error instanceof MalformedResponseError && /expected ContextIdentifier, State, ValidUntil/.test(error.message)),
    },
    {
      name: 'another tenant',
      body: '{"ContextIdentifier": "Cust2", "State": "Running"}',
      expect: (error) =>
        assert.ok(error instanceof MalformedResponseError && /answered for another tenant \(expected Cust1\)/.test(error.message)),
    },
    {
      name: 'not JSON',
      body: '<html/>',
      expect: (error) => assert.ok(error instanceof MalformedResponseError && /is not JSON/.test(error.message)),
    },
    {
      name: 'a State with control characters and no end (cleaned and clipped), camelCase keys',
      body: JSON.stringify({ contextIdentifier: 'cust1', state: `Offline\r\nMaintenance${'x'.repeat(200)}`, validUntil: 'not a date' }),
      expect: (value) => {
        const state = value as { state: string; running: boolean; validUntil: number | null };
        assert.ok(!/[\r\n]/.test(state.state));
        assert.ok(state.state.startsWith('Offline Maintenance'));
        assert.ok(state.state.length <= 67);
        assert.equal(state.running, false);
        assert.equal(state.validUntil, null);
      },
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const server = await fakeStatusServer(c.body, c.status);
      try {
        const result = await statusOf(server.origin)
          .current()
          .catch((error: unknown) => error);
        c.expect(result);
      } finally {
        await server.close();
      }
    });
  }
});

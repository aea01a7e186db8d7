import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createSuperOfficeClient } from '../src/superoffice/client.ts';
import { AuthError, ClientSetupError } from '../src/superoffice/errors.ts';
import { simulatorConfig, usingSimulator } from './helpers/simulator.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const shared = path.resolve(repoRoot, '../shared/superoffice');
const batchWsdl = path.join(shared, 'Services85-Batch.wsdl');
const principalWsdl = path.join(shared, 'Services85-SoPrincipal.wsdl');

describe("the client with SuperOffice's published WSDLs", () => {
  it('authenticates and reads tasks through the override WSDLs', async (t) => {
    if (!existsSync(batchWsdl) || !existsSync(principalWsdl)) {
      t.skip(`published WSDLs not found in ${shared} (../shared is absent outside CI)`);
      return;
    }
    await usingSimulator({ applicationToken: 'app-1' }, async (sim) => {
      sim.upsertTask({ id: 31, associateId: 101, name: 'ImportContacts', state: 'Started', progressPercent: 30 });
      sim.upsertTask({ id: 32, associateId: 102, name: 'ExportSelection', state: 'New' });
      const client = createSuperOfficeClient(simulatorConfig(sim.url, { applicationToken: 'app-1' }), { batchWsdl, principalWsdl });
      await client.authenticate();
      const tasks = await client.getBatchTaskInfosByAssociates([101, 102]);
      assert.deepEqual(
        tasks.map((x) => [x.id, x.name, x.state, x.progressPercent]),
        [
          [31, 'ImportContacts', 'Started', 30],
          [32, 'ExportSelection', 'New', 0],
        ],
      );
      assert.equal(sim.stats.authCalls, 1);
      assert.deepEqual(
        sim.stats.requests.map((r) => [r.associateIds, r.applicationToken, r.headersInSoapHeader]),
        [[[101, 102], 'app-1', true]],
      );

      const wrong = createSuperOfficeClient(simulatorConfig(sim.url, { applicationToken: 'app-1', password: 'nope' }), {
        batchWsdl,
        principalWsdl,
      });
      await assert.rejects(wrong.authenticate(), AuthError);
    });
  });
});

describe('WSDL overrides', () => {
  it('an override WSDL that cannot be read is a setup error, not a SuperOffice outage', async () => {
    await usingSimulator({}, async (sim) => {
      const client = createSuperOfficeClient(simulatorConfig(sim.url), { principalWsdl: path.join(repoRoot, 'no-such.wsdl') });
      await assert.rejects(client.authenticate(), (err) => {
        assert.ok(err instanceof ClientSetupError);
        assert.equal(err.kind, 'internal');
        assert.match(err.message, /cannot load WSDL .*no-such\.wsdl/);
        return true;
      });
      assert.equal(sim.stats.authCalls, 0);
    });
  });
});

import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startSimulator, type Simulator } from '../src/simulator/server.ts';
import { createSuperOfficeClient } from '../src/superoffice/client.ts';
import { TransportError } from '../src/superoffice/errors.ts';
import { tenantStatusFor } from '../src/superoffice/tenant-status.ts';
import { onlineApp, onlineConfig, simulatorSystemUser } from './helpers/online.ts';
import { simulatorConfig } from './helpers/simulator.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const listSchedule = { name: 'sales', associates: [101], timing: { every: 60_000 } };

/** A private CA and a server certificate for 127.0.0.1 signed by it, made with openssl for this run. */
function privateCa(dir: string): { ca: string; key: string; cert: string } {
  const file = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=batchwatch test private CA',
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.pem'),
  );
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', file('server.key'), '-out', file('server.csr'));
  writeFileSync(
    file('server.ext'),
    'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n',
  );
  openssl(
    'x509',
    '-req',
    '-in',
    file('server.csr'),
    '-CA',
    file('ca.pem'),
    '-CAkey',
    file('ca.key'),
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    file('server.ext'),
    '-out',
    file('server.pem'),
  );
  return { ca: file('ca.pem'), key: readFileSync(file('server.key'), 'utf8'), cert: readFileSync(file('server.pem'), 'utf8') };
}

describe('SuperOffice behind a private CA (https)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bw-tls-'));
  let material: ReturnType<typeof privateCa>;
  let sim: Simulator;
  before(async () => {
    material = privateCa(dir);
    sim = await startSimulator({ scenario: 'empty', tls: { key: material.key, cert: material.cert } });
    sim.upsertTask({ id: 1, associateId: 101, name: 'Secure' });
  });
  after(async () => {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('without superoffice.tls.ca the certificate is refused, and the error says which key would trust it', async () => {
    assert.match(sim.url, /^https:\/\/127\.0\.0\.1:/);
    const client = createSuperOfficeClient(simulatorConfig(sim.url));
    await assert.rejects(client.authenticate(), (err) => {
      assert.ok(err instanceof TransportError, String(err));
      assert.equal(err.reason, 'tls');
      assert.match(err.message, /certificate of 127\.0\.0\.1 is not trusted/);
      assert.match(err.message, /superoffice\.tls\.ca/);
      assert.match(err.message, /NODE_EXTRA_CA_CERTS/);
      return true;
    });
  });

  it('with superoffice.tls.ca the calls go through, verification on', async () => {
    const client = createSuperOfficeClient(simulatorConfig(sim.url, { tls: { ca: material.ca } }));
    const { tasks } = await client.tasksFor(listSchedule);
    assert.deepEqual(
      tasks.map((t) => t.name),
      ['Secure'],
    );
    // Verification is on: the same CA does not make a certificate for another name acceptable.
    const byName = createSuperOfficeClient(simulatorConfig(sim.url.replace('127.0.0.1', 'localhost'), { tls: { ca: material.ca } }));
    await assert.rejects(
      byName.authenticate(),
      (err) => err instanceof TransportError && err.reason === 'tls' && /not valid for that name/.test(err.message),
    );
  });

  it('NODE_EXTRA_CA_CERTS trusts the CA for the whole process', async () => {
    const script = `
      const { createSuperOfficeClient } = await import(${JSON.stringify(path.join(repoRoot, 'src/superoffice/client.ts'))});
      const c = createSuperOfficeClient({ url: ${JSON.stringify(sim.url)}, username: 'demo', password: 'demo', timeout: 5000, associatesPerRequest: 10, maxConcurrentRequests: 1, timeZone: 'UTC' });
      const { tasks } = await c.tasksFor(${JSON.stringify(listSchedule)});
      console.log(JSON.stringify(tasks.map((t) => t.name)));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: repoRoot,
      env: { ...process.env, NODE_EXTRA_CA_CERTS: material.ca },
    });
    assert.deepEqual(JSON.parse(stdout.trim()), ['Secure']);
  });
});

describe('SuperOffice Online behind a private CA: the system user login and the tenant status trust superoffice.tls.ca too', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bw-tls-online-'));
  const app = onlineApp('tls');
  let material: ReturnType<typeof privateCa>;
  let sim: Simulator;
  before(async () => {
    material = privateCa(dir);
    sim = await startSimulator({
      scenario: 'empty',
      tls: { key: material.key, cert: material.cert },
      systemUser: simulatorSystemUser(app),
    });
    sim.upsertTask({ id: 1, associateId: 101, name: 'Secure online' });
  });
  after(async () => {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const statusUrl = () => `${new URL(sim.url).origin}/api/state`;

  it('with superoffice.tls.ca the login and the tenant status go through over https', async () => {
    const config = onlineConfig(sim, app, { tls: { ca: material.ca }, tenantStatusUrl: statusUrl() });
    const { tasks } = await createSuperOfficeClient(config).tasksFor(listSchedule);
    assert.deepEqual(
      tasks.map((t) => t.name),
      ['Secure online'],
    );
    assert.equal(sim.stats.systemUserLogins, 1);
    const state = await tenantStatusFor(config)!.current();
    assert.equal(state.running, true);
  });

  it('without it, both fail with a TLS error that names superoffice.tls.ca', async () => {
    const config = onlineConfig(sim, app, { tenantStatusUrl: statusUrl() });
    for (const attempt of [createSuperOfficeClient(config).authenticate(), tenantStatusFor(config)!.current()]) {
      await assert.rejects(attempt, (err) => {
        assert.ok(err instanceof TransportError, String(err));
        assert.equal(err.reason, 'tls');
        assert.match(err.message, /certificate of 127\.0\.0\.1 is not trusted/);
        assert.match(err.message, /superoffice\.tls\.ca/);
        return true;
      });
    }
  });
});

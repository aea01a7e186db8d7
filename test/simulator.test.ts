import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { BatchTaskInfo } from '../src/core/task.ts';
import { ScenarioRunner, SCENARIOS } from '../src/simulator/scenarios.ts';
import { startSimulator } from '../src/simulator/server.ts';
import { TaskTable } from '../src/simulator/task-table.ts';
import { createSuperOfficeClient } from '../src/superoffice/client.ts';
import { TransportError } from '../src/superoffice/errors.ts';
import { simulatorConfig, usingSimulator, withSimulator } from './helpers/simulator.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SO = 'http://www.superoffice.net/ws/crm/NetServer/Services85';
const BATCH_ACTION = `"${SO}/Batch/GetBatchTaskInfosByAssociates"`;

function byId(tasks: BatchTaskInfo[]): Map<number, BatchTaskInfo> {
  return new Map(tasks.map((t) => [t.id, t]));
}

describe('story scenario timeline (default 5 s steps)', () => {
  it('fails within 15 s, stalls, stays New, restarts and lets the finished task vanish', () => {
    let now = 1_700_000_000_000;
    const start = now;
    const table = new TaskTable(() => now);
    const story = SCENARIOS.story;
    assert.ok(story);
    const runner = new ScenarioRunner(story, table, 5000, () => now);
    const at = (ms: number) => {
      now = start + ms;
      runner.advance();
      return byId(table.list());
    };

    const t0 = at(0);
    assert.deepEqual([...t0.keys()], [1001, 1002, 1003, 1004, 1005]);
    assert.equal(t0.get(1001)?.state, 'New');
    assert.equal(t0.get(1002)?.state, 'Started');
    assert.deepEqual([t0.get(1003)?.state, t0.get(1003)?.progressPercent], ['Started', 40]);
    assert.deepEqual(new Set([...t0.values()].map((t) => t.associateId)), new Set([101, 102]));

    const t15 = at(15_000);
    assert.equal(t15.get(1002)?.state, 'Failed');
    assert.match(t15.get(1002)?.response ?? '', /<test@example\.com>.*&/);
    assert.equal(t15.get(1001)?.state, 'Started');

    const t20 = at(20_000);
    assert.equal(t20.get(1001)?.state, 'Succeeded');
    assert.equal(t20.get(1001)?.progressPercent, 100);
    assert.equal(t20.get(1005)?.startCount, 2, 'TravelGateway restarted');
    assert.equal(t20.get(1005)?.lastStarted, start + 20_000);

    const t30 = at(30_000);
    assert.equal(t30.has(1001), false, 'the finished task vanished');

    const later = at(10 * 60_000);
    assert.deepEqual([later.get(1003)?.state, later.get(1003)?.progressPercent], ['Started', 40], 'frozen forever');
    assert.equal(later.get(1004)?.state, 'New');
    assert.equal(later.get(1002)?.state, 'Failed');
    assert.ok((later.get(1005)?.startCount ?? 0) > 2);
  });
});

describe('simulator over HTTP', () => {
  const shared = withSimulator({ staticTickets: ['7T:t=='] });

  async function post(pathname: string, body: string, headers: Record<string, string>) {
    const res = await fetch(`${shared.url}${pathname}`, { method: 'POST', body, headers });
    return { status: res.status, text: await res.text() };
  }

  const envelope = (header: string, loose = '') =>
    `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">${loose}<s:Header>${header}</s:Header><s:Body>` +
    `<GetBatchTaskInfosByAssociates xmlns="${SO}"><AssociateIds><int xmlns="http://schemas.microsoft.com/2003/10/Serialization/Arrays">7</int></AssociateIds></GetBatchTaskInfosByAssociates></s:Body></s:Envelope>`;
  const credentials = `<Credentials xmlns="${SO}"><Ticket>7T:t==</Ticket></Credentials>`;

  it('answers a well-formed SOAP 1.1 call', async () => {
    shared.sim.upsertTask({ id: 70, associateId: 7, name: 'Seven' });
    const res = await post('/Remote/Services85/Batch.svc', envelope(credentials), {
      'Content-Type': 'text/xml; charset=utf-8',
      SOAPAction: BATCH_ACTION,
    });
    assert.equal(res.status, 200);
    assert.match(res.text, /<Succeeded xmlns="[^"]+">true<\/Succeeded>/);
    assert.match(res.text, /<Id>70<\/Id><Name>Seven<\/Name>/);
    shared.sim.removeTask(70);
  });

  it('answers a SOAP 1.2 content type with 415, like WCF basicHttpBinding', async () => {
    const res = await post('/Remote/Services85/Batch.svc', envelope(credentials), {
      'Content-Type': `application/soap+xml; charset=utf-8; action=${BATCH_ACTION}`,
    });
    assert.equal(res.status, 415);
  });

  it('checks the SOAPAction', async () => {
    const res = await post('/Remote/Services85/Batch.svc', envelope(credentials), {
      'Content-Type': 'text/xml',
      SOAPAction: `"${SO}/Batch/StopBatchJob"`,
    });
    assert.equal(res.status, 500);
    assert.match(res.text, /ActionNotSupported/);
  });

  it('404 for unknown paths, 405 for GET', async () => {
    assert.equal((await post('/Remote/Services85/Nope.svc', 'x', { 'Content-Type': 'text/xml' })).status, 404);
    assert.equal((await fetch(`${shared.url}/Remote/Services85/Batch.svc`)).status, 405);
  });

  it('only honours credentials inside soap:Header', async () => {
    const before = shared.sim.stats.requests.length;
    const res = await post('/Remote/Services85/Batch.svc', envelope('', credentials), {
      'Content-Type': 'text/xml',
      SOAPAction: BATCH_ACTION,
    });
    assert.equal(res.status, 200);
    assert.match(res.text, /<Succeeded xmlns="[^"]+">false<\/Succeeded>/);
    assert.match(res.text, /SoSessionException/);
    assert.deepEqual(shared.sim.stats.requests.slice(before), [
      { associateIds: [7], ticket: undefined, applicationToken: undefined, headersInSoapHeader: false },
    ]);
  });

  it('escapes every value it sends', async () => {
    const nasty = `<b>"Tom & Jerry's"</b> ]]> &amp;`;
    shared.sim.upsertTask({
      id: 80,
      associateId: 8,
      name: nasty,
      state: `Weird<${nasty}>`,
      description: nasty,
      parameterObject: { [nasty]: nasty },
    });
    const client = createSuperOfficeClient(simulatorConfig(shared.url, { ticket: '7T:t==', username: undefined, password: undefined }));
    const [task] = await client.getBatchTaskInfosByAssociates([8]);
    assert.equal(task?.name, nasty);
    assert.equal(task?.state, `Weird<${nasty}>`);
    assert.equal(task?.description, nasty);
    assert.deepEqual(task?.parameterObject, { [nasty]: nasty });
    shared.sim.removeTask(80);
  });

  it('upsertTask merges into an existing task', () => {
    shared.sim.upsertTask({ id: 90, associateId: 9, name: 'Merge', state: 'Started', startCount: 1, lastStarted: 1_700_000_000_000 });
    shared.sim.upsertTask({ id: 90, associateId: 9, state: 'Failed', response: 'boom' });
    const task = shared.sim.tasks().find((t) => t.id === 90);
    assert.deepEqual(
      [task?.name, task?.state, task?.startCount, task?.lastStarted, task?.response],
      ['Merge', 'Failed', 1, 1_700_000_000_000, 'boom'],
    );
    shared.sim.removeTask(90);
    assert.equal(
      shared.sim.tasks().some((t) => t.id === 90),
      false,
    );
  });
});

describe('simulator scenarios in real time', () => {
  it('story runs through its steps and pauses on demand', async () => {
    await usingSimulator({ scenario: 'story', stepMs: 40 }, async (sim) => {
      // Paused at once so a slow first call (login included) on a loaded machine still sees the start.
      sim.pauseScenario();
      const client = createSuperOfficeClient(simulatorConfig(sim.url));
      const first = byId(await client.getBatchTaskInfosByAssociates([101, 102]));
      assert.equal(first.get(1002)?.state, 'Started');
      sim.resumeScenario();
      let later = first;
      for (let waited = 0; waited < 5000 && (later.get(1002)?.state !== 'Failed' || later.has(1001)); waited += 100) {
        await sleep(100);
        later = byId(await client.getBatchTaskInfosByAssociates([101, 102]));
      }
      assert.equal(later.get(1002)?.state, 'Failed');
      assert.equal(later.get(1002)?.response, 'SMTP relay refused <test@example.com>: 550 5.7.1 Relaying denied & message "dropped"');
      assert.equal(later.has(1001), false);
      assert.equal(byId(await client.getBatchTaskInfosByAssociates([101])).has(1003), false, 'only the asked associates');

      sim.pauseScenario();
      const paused = sim.tasks();
      await sleep(200);
      assert.deepEqual(sim.tasks(), paused, 'nothing moves while paused');
      sim.resumeScenario();
      await sleep(200);
      assert.notDeepEqual(sim.tasks(), paused);
    });
  });

  it('flaky answers every 3rd call with HTTP 500', async () => {
    await usingSimulator({ scenario: 'flaky', stepMs: 60_000 }, async (sim) => {
      const client = createSuperOfficeClient(simulatorConfig(sim.url));
      const outcomes: string[] = [];
      for (let i = 0; i < 6; i++) {
        outcomes.push(
          await client.getBatchTaskInfosByAssociates([101, 102]).then(
            (tasks) => `ok:${tasks.length}`,
            (err: unknown) => (err instanceof TransportError ? `http:${err.status}` : 'other'),
          ),
        );
      }
      assert.deepEqual(outcomes, ['ok:2', 'ok:2', 'http:500', 'ok:2', 'ok:2', 'http:500']);
    });
  });

  it('dates go out without offset in the configured base zone', async () => {
    await usingSimulator({ timeZone: 'Europe/Oslo', staticTickets: ['t1'] }, async (sim) => {
      const instant = Date.UTC(2024, 6, 1, 10, 0, 0);
      sim.upsertTask({ id: 5, associateId: 1, lastStarted: instant, created: instant });
      const res = await fetch(`${sim.url}/Remote/Services85/Batch.svc`, {
        method: 'POST',
        headers: { 'Content-Type': 'text/xml', SOAPAction: BATCH_ACTION },
        body:
          `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header><Credentials xmlns="${SO}"><Ticket>t1</Ticket></Credentials></s:Header>` +
          `<s:Body><GetBatchTaskInfosByAssociates xmlns="${SO}"><AssociateIds><int xmlns="http://schemas.microsoft.com/2003/10/Serialization/Arrays">1</int></AssociateIds></GetBatchTaskInfosByAssociates></s:Body></s:Envelope>`,
      });
      assert.match(await res.text(), /<LastStarted>2024-07-01T12:00:00<\/LastStarted>/);
      const oslo = createSuperOfficeClient(simulatorConfig(sim.url, { ticket: 't1', timeZone: 'Europe/Oslo' }));
      assert.equal((await oslo.getBatchTaskInfosByAssociates([1]))[0]?.lastStarted, instant);
    });
  });

  it('refuses an unknown scenario', async () => {
    await assert.rejects(
      startSimulator({ scenario: 'nope' }),
      /unknown scenario "nope" \(known: story, quiet, empty, flaky, maintenance\)/,
    );
  });
});

describe('batchwatch simulator command', () => {
  const run = (args: string) =>
    spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `const m = await import(${JSON.stringify(path.join(repoRoot, 'src/simulator/command.ts'))}); process.exitCode = await m.runSimulatorCommand(${args});`,
      ],
      {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );

  it('prints its URL and a config snippet, serves, and exits 0 on SIGINT', async () => {
    const child = run(`{ port: 0, smtpPort: 0, scenario: 'quiet' }`);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 15_000;
    while (!/Ctrl-C/.test(out) && Date.now() < deadline) await sleep(50);
    const url = /listening at (http:\/\/\S+)/.exec(out)?.[1];
    assert.ok(url, out);
    assert.match(out, new RegExp(`url: ${url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.match(out, /username: demo/);
    const client = createSuperOfficeClient(simulatorConfig(url));
    assert.deepEqual(
      (await client.getBatchTaskInfosByAssociates([101, 102])).map((t) => t.id),
      [2001, 2002],
    );
    child.kill('SIGINT');
    assert.equal(await exited, 0);
  });

  it('exits 2 for an unknown scenario', async () => {
    const child = run(`{ port: 0, scenario: 'nope' }`);
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    assert.equal(code, 2);
    assert.match(err, /unknown scenario "nope"/);
  });
});

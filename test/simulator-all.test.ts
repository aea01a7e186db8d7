import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../src/config/load.ts';
import { ScenarioRunner, SCENARIOS } from '../src/simulator/scenarios.ts';
import { TaskTable } from '../src/simulator/task-table.ts';
import { createSuperOfficeClient } from '../src/superoffice/client.ts';
import { simulatorConfig, usingSimulator } from './helpers/simulator.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SO = 'http://www.superoffice.net/ws/crm/NetServer/Services85';

async function byState(url: string, state: string, ticket: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${url}/Remote/Services85/Batch.svc`, {
    method: 'POST',
    headers: { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: `"${SO}/Batch/GetBatchTaskInfosByState"` },
    body:
      `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header><Credentials xmlns="${SO}"><Ticket>${ticket}</Ticket></Credentials></s:Header>` +
      `<s:Body><GetBatchTaskInfosByState xmlns="${SO}"><State>${state}</State></GetBatchTaskInfosByState></s:Body></s:Envelope>`,
  });
  return { status: res.status, text: await res.text() };
}

const ids = (xml: string) => [...xml.matchAll(/<Id>(\d+)<\/Id>/g)].map((m) => Number(m[1]));

describe('simulator: GetBatchTaskInfosByState and system tasks', () => {
  it('State=All answers every user task, never a system task; a state filters; system tasks come by associate 0', async () => {
    await usingSimulator({ staticTickets: ['t'] }, async (sim) => {
      sim.upsertTask({ id: 1, associateId: 101, state: 'Started' });
      sim.upsertTask({ id: 2, associateId: 999, state: 'Failed' });
      sim.upsertTask({ id: 3, associateId: 0, state: 'Failed', isSystemTask: true });
      const all = await byState(sim.url, 'All', 't');
      assert.equal(all.status, 200);
      assert.match(all.text, /<GetBatchTaskInfosByStateResponse xmlns="[^"]+"><Response/);
      assert.deepEqual(ids(all.text), [1, 2]);
      assert.deepEqual(ids((await byState(sim.url, 'Failed', 't')).text), [2]);
      assert.deepEqual(
        sim.stats.requests.map((r) => r.state),
        ['All', 'Failed'],
      );
      const client = createSuperOfficeClient(simulatorConfig(sim.url, { ticket: 't' }));
      assert.deepEqual(
        (await client.getBatchTaskInfosByAssociates([0])).map((t) => t.id),
        [3],
      );
      // Expired tickets are refused the same way for this operation.
      assert.match((await byState(sim.url, 'All', 'nope')).text, /SoSessionException/);
    });
  });

  it('corruptField sends a field that cannot be read, until it is reset', async () => {
    await usingSimulator({}, async (sim) => {
      sim.upsertTask({ id: 5, associateId: 7 });
      sim.corruptField(5, 'StartCount', 'many');
      const client = createSuperOfficeClient(simulatorConfig(sim.url));
      const schedule = { name: 's', associates: [7], timing: { every: 1000 } };
      assert.deepEqual((await client.tasksFor(schedule)).unreadable, [
        { id: 5, field: 'StartCount', problem: 'expected an integer, got "many"' },
      ]);
      sim.corruptField(5, 'StartCount', null);
      assert.deepEqual(
        (await client.tasksFor(schedule)).tasks.map((t) => t.id),
        [5],
      );
    });
  });

  it('the quiet scenario has a task of an associate nobody lists and a system task', () => {
    const now = 1_700_000_000_000;
    const table = new TaskTable(() => now);
    const quiet = SCENARIOS.quiet;
    assert.ok(quiet);
    new ScenarioRunner(quiet, table, 5000, () => now).advance();
    const tasks = table.list();
    assert.ok(
      tasks.some((t) => !quiet.associates.includes(t.associateId) && t.associateId !== 0),
      'an unlisted associate',
    );
    assert.ok(
      tasks.some((t) => t.associateId === 0 && t.isSystemTask),
      'a system task',
    );
  });

  it('batchwatch simulator prints an associates: all example that is a valid config', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `const m = await import(${JSON.stringify(path.join(repoRoot, 'src/simulator/command.ts'))}); process.exitCode = await m.runSimulatorCommand({ port: 0, smtpPort: 0, scenario: 'quiet' });`,
      ],
      {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    for (const deadline = Date.now() + 15_000; !/Ctrl-C/.test(out) && Date.now() < deadline; ) await sleep(50);
    child.kill('SIGINT');
    assert.equal(await exited, 0);
    // The first snippet (username/password login) runs from its superoffice: line to the next blank line.
    const start = out.indexOf('superoffice:');
    const snippet = out.slice(start, out.indexOf('\n\n', start) + 1);
    // The snippet is a whole config, mail section included.
    const config = parseConfig(snippet, { SO_PASSWORD: 'demo' });
    const all = config.schedules.find((s) => s.associates === 'all');
    assert.ok(all && all.associates === 'all', out);
    assert.equal(all.includeSystemTasks, true);
    assert.deepEqual(all.listedElsewhere, [101, 102]);
  });
});

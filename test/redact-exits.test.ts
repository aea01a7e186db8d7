// The scrubbing at each exit, one by one: HTML and XML forms, SuperOffice text as it enters, mail, queue errors, HTTP answers.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { UnrecoverableError } from 'bullmq';
import { scrubTask, scrubTasks } from '../src/monitor/scrub-tasks.ts';
import { scrubbedMessage } from '../src/notify/transport.ts';
import { healthRoutes } from '../src/http/core-routes.ts';
import { startHttpServer } from '../src/http/server.ts';
import { SecretSet, scrubbedError, secrets } from '../src/redact/secrets.ts';
import { echoCredentials } from '../src/simulator/echo.ts';
import { task } from './helpers/tasks.ts';

const PLANTED = 'Exit&<Planted>"Secret\'42';
secrets.add(PLANTED);

describe('secret forms', () => {
  it('the HTML- and XML-escaped forms are scrubbed too (a mail part, a SOAP answer)', () => {
    const set = new SecretSet();
    set.add(PLANTED);
    assert.equal(set.scrub('<p>Exit&amp;&lt;Planted&gt;&quot;Secret&#39;42</p>'), '<p>***</p>');
    assert.equal(set.scrub('<m>Exit&amp;&lt;Planted&gt;"Secret\'42</m>'), '<m>***</m>');
  });
});

describe('SuperOffice text as it enters', () => {
  it('every text field and the parameters are scrubbed; an untouched task stays the same object', async () => {
    const clean = task({ id: 1, name: 'Import' });
    assert.equal(scrubTask(clean), clean);
    const dirty = task({
      id: 2,
      name: `Import ${PLANTED}`,
      description: `see ${encodeURIComponent(PLANTED)}`,
      response: Buffer.from(PLANTED).toString('base64'),
      state: PLANTED,
      parameterObject: { [PLANTED]: 'key', value: PLANTED.toLowerCase() },
    });
    const scrubbed = scrubTask(dirty);
    assert.equal(scrubbed.name, 'Import ***');
    assert.equal(scrubbed.description, 'see ***');
    assert.equal(scrubbed.response, '***');
    assert.equal(scrubbed.state, '***');
    assert.deepEqual(scrubbed.parameterObject, { '***': 'key', value: '***' });
    assert.equal(dirty.name, `Import ${PLANTED}`, 'the input is not changed');
    assert.deepEqual(
      (await scrubTasks([clean, dirty])).map((t) => t.name),
      ['Import', 'Import ***'],
    );
  });

  it('a long task list (100k) is scrubbed in chunks, letting the event loop run between them', async () => {
    const tasks = Array.from({ length: 100_000 }, (_, i) => task({ id: i + 1, name: i === 99_999 ? `Last ${PLANTED}` : `Task ${i}` }));
    let turns = 0;
    let done = false;
    const spin = () => {
      if (done) return;
      turns += 1;
      setImmediate(spin);
    };
    setImmediate(spin);
    const scrubbed = await scrubTasks(tasks);
    done = true;
    assert.equal(scrubbed.length, 100_000);
    assert.equal(scrubbed[99_999]?.name, 'Last ***');
    assert.equal(scrubbed[5], tasks[5], 'untouched tasks stay the same objects');
    assert.ok(turns >= 5, `the event loop ran ${turns} times while 100k tasks were scrubbed`);
  });
});

describe('mail', () => {
  it('subject, text, HTML and header values are scrubbed; ids are kept', () => {
    const message = scrubbedMessage({
      subject: `[FIRING:1] failed: ${PLANTED}`,
      text: `Description: ${PLANTED}`,
      html: `<td>Exit&amp;&lt;Planted&gt;&quot;Secret&#39;42</td>`,
      headers: { 'X-Batchwatch-Schedule': PLANTED },
      messageId: '<batch.1@example.com>',
      references: ['<root@example.com>'],
    });
    assert.equal(message.subject, '[FIRING:1] failed: ***');
    assert.equal(message.text, 'Description: ***');
    assert.equal(message.html, '<td>***</td>');
    assert.deepEqual(message.headers, { 'X-Batchwatch-Schedule': '***' });
    assert.equal(message.messageId, '<batch.1@example.com>');
  });
});

describe('errors a queue stores in Redis', () => {
  it('message and stack are scrubbed and the class is kept', () => {
    const error = scrubbedError(new UnrecoverableError(`rejected: ${PLANTED}`));
    assert.ok(error instanceof UnrecoverableError);
    assert.equal(error.message, 'rejected: ***');
    assert.ok(!error.stack?.includes(PLANTED));
  });
});

describe('HTTP answers', () => {
  it('a readiness reason quoting a secret is answered scrubbed', async () => {
    const server = await startHttpServer({
      host: '127.0.0.1',
      port: 0,
      routes: healthRoutes({
        readiness: async () => ({ ready: false, reasons: [`mail: 535 Authentication failed for mailer:${PLANTED}`] }),
      }),
    });
    try {
      const response = await fetch(`${server.url}/readyz`);
      assert.equal(response.status, 503);
      assert.equal(await response.text(), 'not ready\n- mail: 535 Authentication failed for mailer:***\n');
    } finally {
      await server.close();
    }
  });
});

describe('command output', () => {
  it('everything written to stdout and stderr, as text or bytes, and a crash are scrubbed; a crash exits 1', async () => {
    const output = fileURLToPath(new URL('../src/cli/output.ts', import.meta.url));
    const secretsModule = fileURLToPath(new URL('../src/redact/secrets.ts', import.meta.url));
    const script = `
      const { installScrubbedOutput } = await import(${JSON.stringify(output)});
      const { secrets } = await import(${JSON.stringify(secretsModule)});
      installScrubbedOutput();
      secrets.add(${JSON.stringify(PLANTED)});
      process.stdout.write('text ' + ${JSON.stringify(PLANTED)} + '\\n');
      process.stdout.write(Buffer.from('bytes ' + encodeURIComponent(${JSON.stringify(PLANTED)}) + '\\n'));
      console.error('console ' + ${JSON.stringify(PLANTED)});
      setTimeout(() => { throw new Error('crash ' + ${JSON.stringify(PLANTED)}); }, 10);
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 1, err);
    assert.equal(out, 'text ***\nbytes ***\n');
    assert.match(err, /^console \*\*\*\nbatchwatch: fatal error: Error: crash \*\*\*\n/);
    assert.ok(!`${out}${err}`.includes('Planted'), err);
  });
});

describe('the simulator echoing credentials', () => {
  it('fills the placeholders with what the request carried, XML-escaped', () => {
    const xml = echoCredentials('<a>{{ticket}} {{ticket:base64}} {{ticket:url}} {{ticket:lower}} {{applicationToken}}</a>', {
      ticket: '7T:Ab+/',
      applicationToken: 'a&b',
    });
    assert.equal(xml, `<a>7T:Ab+/ ${Buffer.from('7T:Ab+/').toString('base64')} 7T%3AAb%2B%2F 7t:ab+/ a&amp;b</a>`);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { secrets } from '../src/redact/secrets.ts';
import { BatchResponseReader, readBatchAnswer } from '../src/superoffice/batch-response.ts';
import { TASK_LIMITS } from '../src/superoffice/batch-task-info.ts';
import { createSuperOfficeClient } from '../src/superoffice/client.ts';
import { EnvelopeError } from '../src/superoffice/envelope.ts';
import { MalformedResponseError, TransportError } from '../src/superoffice/errors.ts';
import { XML_LIMITS, XmlSyntaxError } from '../src/superoffice/sax-driver.ts';
import { batchAnswer, S11, soapConfig, startSoapServer, taskXml, type SoapTestServer } from './helpers/soap-server.ts';

const listSchedule = { name: 'sales', associates: [12], timing: { every: 60_000 } };
const EXPECTED = 'GetBatchTaskInfosByAssociatesResponse';
const read = (xml: string) => readBatchAnswer(xml, EXPECTED, 'UTC');

describe('one bad task never blinds a poll', () => {
  let server: SoapTestServer;
  before(async () => {
    server = await startSoapServer();
  });
  after(() => server.close());

  it('a task with a field that cannot be read is left out and reported; the others are read', async () => {
    server.answer(
      batchAnswer(
        taskXml({ Id: '1' }) +
          taskXml({ Id: '2', LastStarted: 'yesterday' }) +
          taskXml({ Id: 'x' }) +
          taskXml({ Id: '4', AssociateId: 'twelve' }) +
          taskXml({ Id: '5', State: 'Failed' }),
      ),
    );
    const client = createSuperOfficeClient(soapConfig(server.url));
    const { tasks, unreadable } = await client.tasksFor(listSchedule);
    assert.deepEqual(
      tasks.map((t) => [t.id, t.state]),
      [
        [1, 'Started'],
        [5, 'Failed'],
      ],
    );
    assert.deepEqual(unreadable, [
      { id: 2, field: 'LastStarted', problem: 'expected an xs:dateTime, got "yesterday"' },
      { id: null, field: 'Id', problem: 'expected an integer, got "x"' },
      { id: 4, field: 'AssociateId', problem: 'expected an integer, got "twelve"' },
    ]);
  });

  it('the strict call still fails naming the first such task', async () => {
    server.answer(batchAnswer(taskXml({ Id: '1' }) + taskXml({ Id: '2', StartCount: 'many' })));
    const client = createSuperOfficeClient(soapConfig(server.url));
    await assert.rejects(client.getBatchTaskInfosByAssociates([12]), (err) => {
      assert.ok(err instanceof MalformedResponseError);
      assert.match(err.message, /^GetBatchTaskInfosByAssociates: BatchTaskInfo #2 \(Id 2\): StartCount: expected an integer, got "many"$/);
      return true;
    });
  });

  it('values in problems are clipped and scrubbed of secrets', async () => {
    const planted = 'planted-secret-value-4711';
    secrets.add(planted);
    const ticket = soapConfig(server.url).ticket as string;
    server.answer(
      batchAnswer(
        taskXml({ Id: '1', LastStarted: ticket }) +
          taskXml({ Id: '2', Created: `x${planted}` }) +
          taskXml({ Id: '3', StartCount: 'n'.repeat(5000) }) +
          taskXml({ Id: '4', StartCount: 'a&#10;b&#x9b;31m&#9;c' }),
      ),
    );
    const { unreadable } = await createSuperOfficeClient(soapConfig(server.url)).tasksFor(listSchedule);
    const text = JSON.stringify(unreadable);
    assert.ok(!text.includes(ticket) && !text.includes(planted), text);
    assert.equal(unreadable.length, 4);
    assert.ok((unreadable[2]?.problem.length ?? 0) < 80, 'a long value is clipped');
    assert.equal(unreadable[3]?.problem, 'expected an integer, got "a?b?31m?c"', 'no line breaks or terminal escapes');
  });

  it('a field longer than the per-field limit makes that task unreadable, not the answer', async () => {
    const long = 'x'.repeat(TASK_LIMITS.fieldText + 10);
    const params = Array.from(
      { length: TASK_LIMITS.parameters + 1 },
      (_, i) => `<StringKeyValuePair><Key>k${i}</Key><Value>v</Value></StringKeyValuePair>`,
    ).join('');
    server.answer(
      batchAnswer(taskXml({ Id: '1', Description: long }) + taskXml({ Id: '2', ParameterObject: params }) + taskXml({ Id: '3' })),
    );
    const { tasks, unreadable } = await createSuperOfficeClient(soapConfig(server.url)).tasksFor(listSchedule);
    assert.deepEqual(
      tasks.map((t) => t.id),
      [3],
    );
    assert.deepEqual(
      unreadable.map((u) => [u.id, u.field, u.problem]),
      [
        [1, 'Description', `longer than ${TASK_LIMITS.fieldText} characters`],
        [2, 'ParameterObject', `more than ${TASK_LIMITS.parameters} entries`],
      ],
    );
  });

  it('an answer whose envelope is broken is still a failed poll', async () => {
    const good = batchAnswer(taskXml({ Id: '1' }));
    const client = createSuperOfficeClient(soapConfig(server.url));
    for (const body of [good.slice(0, good.length - 20), good.replace('<s:Body>', '<s:Bodi>'), `<html>${good}</html>`]) {
      server.answer(body);
      await assert.rejects(client.tasksFor(listSchedule), MalformedResponseError);
    }
  });
});

describe('the streaming reader against hostile answers', () => {
  it('reads the same tasks whatever the chunking, with prefixes, CDATA and entities', () => {
    const xml =
      `<?xml version="1.0"?><e:Envelope xmlns:e="${S11}"><e:Body><b:${EXPECTED} xmlns:b="http://www.superoffice.net/ws/crm/NetServer/Services85" xmlns:x="http://www.w3.org/2001/XMLSchema-instance">` +
      `<b:Response><b:BatchTaskInfo><b:Id>7</b:Id><b:Name><![CDATA[A <b> & c]]></b:Name><b:Description>caf&#233; &amp; &lt;x&gt;</b:Description>` +
      `<b:Result x:nil="true"/><b:Request x:nil="false">r</b:Request><b:ParameterObject><b:StringKeyValuePair><b:Key>__proto__</b:Key><b:Value>v</b:Value></b:StringKeyValuePair></b:ParameterObject>` +
      `</b:BatchTaskInfo><b:BatchTaskInfo x:nil="true"/></b:Response></b:${EXPECTED}></e:Body></e:Envelope>`;
    const whole = read(xml);
    assert.equal(whole.tasks.length, 1);
    const [task] = whole.tasks;
    assert.equal(task?.name, 'A <b> & c');
    assert.equal(task?.description, 'café & <x>');
    assert.equal(task?.result, null);
    assert.equal(task?.request, 'r');
    assert.equal(Object.getPrototypeOf(task?.parameterObject), Object.prototype, 'a __proto__ key is an ordinary entry');
    assert.deepEqual(Object.entries(task?.parameterObject ?? {}), [['__proto__', 'v']]);
    // Byte by byte, splitting every multi-byte character: the same result.
    const bytes = Buffer.from(xml, 'utf8');
    const streamed = new BatchResponseReader(EXPECTED, 'UTC');
    for (let i = 0; i < bytes.length; i++) streamed.write(bytes.subarray(i, i + 1));
    assert.deepEqual(streamed.end().tasks, whole.tasks);
  });

  it('stops at the first XML error: 20 MB of garbage fails at once with one error', () => {
    const garbage = `<s:Envelope xmlns:s="${S11}"><s:Body>${'<<>>&&'.repeat((20 * 1024 * 1024) / 6)}`;
    const started = performance.now();
    assert.throws(
      () => read(garbage),
      (err) => {
        assert.ok(err instanceof XmlSyntaxError);
        assert.match(err.message, /^not well-formed XML: [^\n]+ \(near character \d+\)$/);
        return true;
      },
    );
    // Generous bound: sax alone reports one error per following character (a minute for this input).
    assert.ok(performance.now() - started < 5000, `took ${performance.now() - started} ms`);
  });

  it('100,000 attributes on one element fail fast (sax checks each against the earlier ones)', () => {
    const attributes = Array.from({ length: 100_000 }, (_, i) => ` a${i}="1"`).join('');
    const xml = `<s:Envelope xmlns:s="${S11}"><s:Body><x${attributes}/></s:Body></s:Envelope>`;
    const started = performance.now();
    assert.throws(() => read(xml), new RegExp(`more than ${XML_LIMITS.attributesPerElement} attributes`));
    assert.ok(performance.now() - started < 2000, `took ${performance.now() - started} ms`);
  });

  it('deep nesting, a DOCTYPE, an unbound prefix, two roots, no root: malformed, named', () => {
    const deep = `<s:Envelope xmlns:s="${S11}"><s:Body>${'<a>'.repeat(XML_LIMITS.depth + 5)}`;
    assert.throws(() => read(deep), /nested deeper than 64 levels/);
    assert.throws(() => read(`<!DOCTYPE x [<!ENTITY a "b">]><s:Envelope xmlns:s="${S11}"/>`), /DOCTYPE is not allowed/);
    assert.throws(() => read(`<s:Envelope xmlns:s="${S11}"><s:Body><q:x/></s:Body></s:Envelope>`), /unbound namespace prefix "q"/);
    assert.throws(() => read(`<s:Envelope xmlns:s="${S11}"><s:Body/></s:Envelope><s:Envelope xmlns:s="${S11}"/>`), XmlSyntaxError);
    assert.throws(() => read('   '), /no root element/);
    assert.throws(
      () => read('<html/>'),
      (err) => err instanceof EnvelopeError && /root element html/.test(err.message),
    );
    assert.throws(() => read(`<s:Envelope xmlns:s="${S11}"/>`), /without Body/);
  });

  it('huge text outside the task list (a header) is cut, not kept whole', () => {
    const xml = `<s:Envelope xmlns:s="${S11}"><s:Header><Note>${'n'.repeat(3 * 1024 * 1024)}</Note></s:Header><s:Body><${EXPECTED}/></s:Body></s:Envelope>`;
    const answer = read(xml);
    assert.equal(answer.envelope.headers[0]?.text.length, 1024 * 1024);
  });

  it('names and attribute values longer than 64 KiB are rejected (sax buffer checks stay on)', () => {
    const xml = `<s:Envelope xmlns:s="${S11}"><s:Body><x a="${'v'.repeat(200 * 1024)}"/></s:Body></s:Envelope>`;
    assert.throws(() => read(xml), /Max buffer length exceeded: attribValue/);
  });
});

describe('answers that are not 200', () => {
  let server: SoapTestServer;
  before(async () => {
    server = await startSoapServer();
  });
  after(() => server.close());

  it('garbage with a 503 is an HTTP error, a fault with a 500 is a fault', async () => {
    const client = createSuperOfficeClient(soapConfig(server.url));
    server.answer('<html>busy</html>'.repeat(100_000), 503);
    await assert.rejects(
      client.tasksFor(listSchedule),
      (err) => err instanceof TransportError && err.reason === 'http-status' && err.status === 503,
    );
    server.answer(
      `<s:Envelope xmlns:s="${S11}"><s:Body><s:Fault><faultcode>s:Server</faultcode><faultstring>Nope</faultstring></s:Fault></s:Body></s:Envelope>`,
      500,
    );
    await assert.rejects(client.tasksFor(listSchedule), /SOAP fault s:Server: Nope/);
  });
});

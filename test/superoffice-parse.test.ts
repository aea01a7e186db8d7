import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { BatchTaskInfo } from '../src/core/task.ts';
import { createSuperOfficeClient } from '../src/superoffice/client.ts';
import { MalformedResponseError, SoapFaultError, SuperOfficeInBandError } from '../src/superoffice/errors.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const seedPage = path.resolve(repoRoot, '../shared/seed/GetBatchTaskInfosByAssociates.md');

/** A SOAP endpoint that answers every POST with whatever the test sets. */
function fixedServer() {
  let answer = { status: 200, body: '' };
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(answer.status, { 'Content-Type': 'text/xml; charset=utf-8' });
      res.end(answer.body);
    });
  });
  return {
    async start(): Promise<string> {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}/Cust9`;
    },
    answer(body: string, status = 200) {
      answer = { status, body };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const S11 = 'http://schemas.xmlsoap.org/soap/envelope/';
const SO = 'http://www.superoffice.net/ws/crm/NetServer/Services85';
const XSI = 'http://www.w3.org/2001/XMLSchema-instance';

function wcf(responseInner: string, headers = `<Succeeded xmlns="${SO}">true</Succeeded>`): string {
  return (
    `<s:Envelope xmlns:s="${S11}"><s:Header><ExceptionInfo i:nil="true" xmlns="${SO}" xmlns:i="${XSI}"/>${headers}</s:Header>` +
    `<s:Body><GetBatchTaskInfosByAssociatesResponse xmlns="${SO}">${responseInner}</GetBatchTaskInfosByAssociatesResponse></s:Body></s:Envelope>`
  );
}

function wcfTask(fields: Record<string, string>): string {
  const base: Record<string, string> = {
    Id: '1',
    Name: 'Task',
    AssociateId: '12',
    State: 'Started',
    ProgressPercent: '10',
    LastStarted: '2024-07-01T12:00:00',
    Created: '2024-01-15T08:30:00',
    ...fields,
  };
  return `<BatchTaskInfo>${Object.entries(base)
    .map(([k, v]) => `<${k}>${v}</${k}>`)
    .join('')}</BatchTaskInfo>`;
}

describe('reading GetBatchTaskInfosByAssociates responses', () => {
  const server = fixedServer();
  let url = '';
  before(async () => {
    url = await server.start();
  });
  after(() => server.close());

  const client = (timeZone = 'UTC') =>
    createSuperOfficeClient({
      url,
      ticket: '7T:fixed==',
      timeout: 2000,
      associatesPerRequest: 100,
      maxConcurrentRequests: 2,
      timeZone,
    });

  async function tasksFor(body: string, timeZone = 'UTC'): Promise<BatchTaskInfo[]> {
    server.answer(body);
    return client(timeZone).getBatchTaskInfosByAssociates([12]);
  }

  it('parses the documentation example (SOAP 1.2 namespace, xsi:type) field by field', async (t) => {
    if (!existsSync(seedPage)) {
      t.skip(`${seedPage} not found: ../shared is absent outside CI`);
      return;
    }
    const page = readFileSync(seedPage, 'utf8');
    const responseBlock = page.split('## GetBatchTaskInfosByAssociates Response')[1]?.match(/```xml\n([\s\S]*?)```/)?.[1];
    assert.ok(responseBlock, 'the seed page has a response example');
    assert.match(responseBlock, /http:\/\/www\.w3\.org\/2003\/05\/soap-envelope/);
    const tasks = await tasksFor(responseBlock);
    const documented: BatchTaskInfo = {
      id: 0,
      name: '',
      associateId: 0,
      detailsTable: 0,
      detailsRecord: 0,
      isSystemTask: false,
      isInternalTask: false,
      parameterObject: { '': '' },
      lastStarted: Date.UTC(2021, 2, 25, 21, 35, 41),
      created: Date.UTC(2021, 2, 25, 21, 35, 41),
      startCount: 0,
      databaseSerialNumber: '',
      context: '',
      result: '',
      state: 'Unknown',
      description: '',
      response: '',
      request: '',
      progressDescription: '',
      progressPercent: 0,
    };
    assert.deepEqual(tasks, [documented]);
  });

  it('parses a response shaped like the documentation (headers directly under Envelope, prefixes, xsi:type)', async () => {
    const body = `<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope" xmlns:xsi="${XSI}"
 xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:Batch="${SO}">
 <Batch:Succeeded xsi:type="xsd:boolean">true</Batch:Succeeded>
 <SOAP-ENV:Body>
  <Batch:GetBatchTaskInfosByAssociatesResponse>
   <Batch:Response xsi:type="Batch:ArrayOfBatchTaskInfo">
    <Batch:BatchTaskInfo xsi:type="Batch:BatchTaskInfo">
     <Batch:Id xsi:type="xsd:int">4711</Batch:Id>
     <Batch:Name xsi:type="xsd:string">MailingSend</Batch:Name>
     <Batch:AssociateId xsi:type="xsd:int">12</Batch:AssociateId>
     <Batch:DetailsTable xsi:type="xsd:short">7</Batch:DetailsTable>
     <Batch:DetailsRecord xsi:type="xsd:int">99</Batch:DetailsRecord>
     <Batch:IsSystemTask xsi:type="xsd:boolean">true</Batch:IsSystemTask>
     <Batch:IsInternalTask xsi:type="xsd:boolean">false</Batch:IsInternalTask>
     <Batch:ParameterObject xsi:type="Batch:StringDictionary">
      <Batch:StringKeyValuePair><Batch:Key xsi:type="xsd:string">mailingId</Batch:Key><Batch:Value xsi:type="xsd:string">42</Batch:Value></Batch:StringKeyValuePair>
      <Batch:StringKeyValuePair><Batch:Key xsi:type="xsd:string">mode</Batch:Key><Batch:Value xsi:type="xsd:string">full &amp; fast</Batch:Value></Batch:StringKeyValuePair>
     </Batch:ParameterObject>
     <Batch:LastStarted xsi:type="xsd:dateTime">2024-03-01T10:00:00Z</Batch:LastStarted>
     <Batch:Created xsi:type="xsd:dateTime">2024-03-01T09:59:00.5+01:00</Batch:Created>
     <Batch:StartCount xsi:type="xsd:int">3</Batch:StartCount>
     <Batch:DatabaseSerialNumber xsi:type="xsd:string">SN-1</Batch:DatabaseSerialNumber>
     <Batch:Context xsi:type="xsd:string">ctx</Batch:Context>
     <Batch:Result xsi:type="xsd:string">res</Batch:Result>
     <Batch:State xsi:type="Batch:BatchTaskState">Failed</Batch:State>
     <Batch:Description xsi:type="xsd:string">Spring newsletter</Batch:Description>
     <Batch:Response xsi:type="xsd:string">550 relay &lt;denied&gt;</Batch:Response>
     <Batch:Request xsi:type="xsd:string">req</Batch:Request>
     <Batch:ProgressDescription xsi:type="xsd:string">Sent 10</Batch:ProgressDescription>
     <Batch:ProgressPercent xsi:type="xsd:short">10</Batch:ProgressPercent>
    </Batch:BatchTaskInfo>
   </Batch:Response>
  </Batch:GetBatchTaskInfosByAssociatesResponse>
 </SOAP-ENV:Body>
</SOAP-ENV:Envelope>`;
    assert.deepEqual(await tasksFor(body), [
      {
        id: 4711,
        name: 'MailingSend',
        associateId: 12,
        detailsTable: 7,
        detailsRecord: 99,
        isSystemTask: true,
        isInternalTask: false,
        parameterObject: { mailingId: '42', mode: 'full & fast' },
        lastStarted: Date.UTC(2024, 2, 1, 10, 0, 0),
        created: Date.UTC(2024, 2, 1, 8, 59, 0, 500),
        startCount: 3,
        databaseSerialNumber: 'SN-1',
        context: 'ctx',
        result: 'res',
        state: 'Failed',
        description: 'Spring newsletter',
        response: '550 relay <denied>',
        request: 'req',
        progressDescription: 'Sent 10',
        progressPercent: 10,
      },
    ]);
  });

  it('an in-band failure with headers directly under a SOAP 1.2 Envelope is still an in-band error', async () => {
    server.answer(`<E:Envelope xmlns:E="http://www.w3.org/2003/05/soap-envelope" xmlns:B="${SO}">
      <B:Succeeded>false</B:Succeeded>
      <B:ExceptionInfo><B:Message>Boom</B:Message><B:FriendlyText>Try later</B:FriendlyText><B:ExceptionType>SoException</B:ExceptionType></B:ExceptionInfo>
      <E:Body><B:GetBatchTaskInfosByAssociatesResponse/></E:Body></E:Envelope>`);
    await assert.rejects(client().getBatchTaskInfosByAssociates([1]), (err) => {
      assert.ok(err instanceof SuperOfficeInBandError);
      assert.equal(err.exceptionType, 'SoException');
      assert.equal(err.friendlyText, 'Try later');
      assert.match(err.message, /Boom/);
      return true;
    });
  });

  it('parses a WCF SOAP 1.1 response: nils, Carrier fields, 7-digit fractions, lenient State and progress', async () => {
    const tasks = await tasksFor(
      wcf(
        `<Response xmlns:i="${XSI}">` +
          `<BatchTaskInfo><TableRight i:nil="true"/><FieldProperties i:nil="true"/><Id>1</Id><Name>Gateway</Name><AssociateId>12</AssociateId>` +
          `<DetailsTable>0</DetailsTable><DetailsRecord>0</DetailsRecord><IsSystemTask>false</IsSystemTask><IsInternalTask>true</IsInternalTask>` +
          `<ParameterObject i:nil="true"/><LastStarted>2024-07-01T12:00:00.1234567</LastStarted><Created>0001-01-01T00:00:00</Created>` +
          `<StartCount>2</StartCount><DatabaseSerialNumber i:nil="true"/><Context i:nil="true"/><Result i:nil="true"/><State>Paused</State>` +
          `<Description i:nil="true"/><Response i:nil="true"/><Request i:nil="true"/><ProgressDescription i:nil="true"/><ProgressPercent>150</ProgressPercent></BatchTaskInfo>` +
          wcfTask({ Id: '2', State: 'SucceededManualCleanup', ProgressPercent: '-5' }) +
          wcfTask({ Id: '3', State: '', ProgressPercent: 'n/a' }) +
          `<BatchTaskInfo i:nil="true"/>` +
          `</Response>`,
      ),
    );
    assert.equal(tasks.length, 3);
    const [gateway, manual, blank] = tasks;
    assert.deepEqual(gateway, {
      id: 1,
      name: 'Gateway',
      associateId: 12,
      detailsTable: 0,
      detailsRecord: 0,
      isSystemTask: false,
      isInternalTask: true,
      parameterObject: {},
      lastStarted: Date.UTC(2024, 6, 1, 12, 0, 0, 123),
      created: null,
      startCount: 2,
      databaseSerialNumber: null,
      context: null,
      result: null,
      state: 'Paused',
      description: null,
      response: null,
      request: null,
      progressDescription: null,
      progressPercent: 100,
    });
    assert.equal(manual?.state, 'SucceededManualCleanup');
    assert.equal(manual?.progressPercent, 0);
    assert.equal(blank?.state, 'Unknown');
    assert.equal(blank?.progressPercent, null);
  });

  it('nil, empty and missing Response all mean no tasks', async () => {
    assert.deepEqual(await tasksFor(wcf(`<Response i:nil="true" xmlns:i="${XSI}"/>`)), []);
    assert.deepEqual(await tasksFor(wcf(`<Response/>`)), []);
    assert.deepEqual(await tasksFor(wcf('')), []);
    assert.deepEqual(await tasksFor(wcf('<Response/>', '')), [], 'no Succeeded header counts as success');
  });

  it('reads offset-less dates in the configured time zone (Europe/Oslo)', async () => {
    const [task] = await tasksFor(
      wcf(`<Response>${wcfTask({ LastStarted: '2024-07-01T12:00:00', Created: '2024-01-15T08:30:00' })}</Response>`),
      'Europe/Oslo',
    );
    assert.equal(task?.lastStarted, Date.UTC(2024, 6, 1, 10, 0, 0), 'summer: UTC+2');
    assert.equal(task?.created, Date.UTC(2024, 0, 15, 7, 30, 0), 'winter: UTC+1');
  });

  it('the result does not depend on the process time zone (TZ=America/New_York)', async () => {
    server.answer(wcf(`<Response>${wcfTask({ LastStarted: '2024-07-01T12:00:00', Created: '2024-01-15T08:30:00Z' })}</Response>`));
    const script = `
      const { createSuperOfficeClient } = await import(${JSON.stringify(path.join(repoRoot, 'src/superoffice/client.ts'))});
      const c = createSuperOfficeClient({ url: ${JSON.stringify(url)}, ticket: 't', timeout: 2000, associatesPerRequest: 10, maxConcurrentRequests: 1, timeZone: 'Europe/Oslo' });
      const [t] = await c.getBatchTaskInfosByAssociates([12]);
      console.log(JSON.stringify({ tz: new Date(2024, 6, 1).getTimezoneOffset(), lastStarted: t.lastStarted, created: t.created }));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: repoRoot,
      env: { ...process.env, TZ: 'America/New_York' },
    });
    const out = JSON.parse(stdout.trim()) as { tz: number; lastStarted: number; created: number };
    assert.equal(out.tz, 240, 'the child really ran in New York time');
    assert.equal(out.lastStarted, Date.UTC(2024, 6, 1, 10, 0, 0));
    assert.equal(out.created, Date.UTC(2024, 0, 15, 8, 30, 0));
  });

  it('rejects a task whose fields have the wrong type, naming the field', async () => {
    await assert.rejects(tasksFor(wcf(`<Response>${wcfTask({ Id: 'abc' })}</Response>`)), (err) => {
      assert.ok(err instanceof MalformedResponseError);
      assert.match(err.message, /BatchTaskInfo #1 \(Id abc\): Id: expected an integer/);
      return true;
    });
    await assert.rejects(
      tasksFor(wcf(`<Response>${wcfTask({ Id: '5', LastStarted: 'yesterday' })}</Response>`)),
      /LastStarted: expected an xs:dateTime/,
    );
    await assert.rejects(
      tasksFor(wcf(`<Response>${wcfTask({ Id: '5', IsSystemTask: 'maybe' })}</Response>`)),
      /IsSystemTask: expected a boolean/,
    );
  });

  it('a 200 that is not a SOAP answer is malformed; a fault with HTTP 200 is still a fault', async () => {
    for (const body of ['<html><body>Maintenance</body></html>', 'Service Unavailable', '']) {
      await assert.rejects(tasksFor(body), MalformedResponseError);
    }
    await assert.rejects(
      tasksFor(`<s:Envelope xmlns:s="${S11}"><s:Body><SomethingElseResponse xmlns="${SO}"/></s:Body></s:Envelope>`),
      /unexpected SomethingElseResponse/,
    );
    await assert.rejects(
      tasksFor(
        `<s:Envelope xmlns:s="${S11}"><s:Body><s:Fault><faultcode>s:Server</faultcode><faultstring>Nope</faultstring></s:Fault></s:Body></s:Envelope>`,
      ),
      (err) => err instanceof SoapFaultError && err.faultcode === 's:Server' && err.faultstring === 'Nope',
    );
  });

  it('reads a SOAP 1.2 fault', async () => {
    server.answer(
      `<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body><e:Fault><e:Code><e:Value>e:Receiver</e:Value></e:Code>` +
        `<e:Reason><e:Text xml:lang="en">Down for maintenance</e:Text></e:Reason></e:Fault></e:Body></e:Envelope>`,
      500,
    );
    await assert.rejects(client().getBatchTaskInfosByAssociates([1]), (err) => {
      assert.ok(err instanceof SoapFaultError);
      assert.equal(err.faultcode, 'e:Receiver');
      assert.equal(err.faultstring, 'Down for maintenance');
      assert.equal(err.status, 500);
      return true;
    });
  });

  it('scrubs a ticket the server echoes back in a fault', async () => {
    server.answer(
      `<s:Envelope xmlns:s="${S11}"><s:Body><s:Fault><faultcode>s:Client</faultcode><faultstring>Ticket 7T:fixed== is unknown</faultstring></s:Fault></s:Body></s:Envelope>`,
      500,
    );
    await assert.rejects(client().getBatchTaskInfosByAssociates([1]), (err) => {
      assert.ok(err instanceof Error);
      assert.ok(!JSON.stringify(err).includes('7T:fixed=='));
      assert.ok(!err.message.includes('7T:fixed=='));
      assert.match(err.message, /\[redacted\]/);
      return true;
    });
  });
});

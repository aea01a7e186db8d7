import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { batchResponseBody, batchInBandFailure, soapFault } from '../src/simulator/responses.ts';
import { batchCallReader, type BatchCallResult } from '../src/superoffice/batch-call.ts';
import { SuperOfficeError } from '../src/superoffice/errors.ts';
import { parseXml } from '../src/superoffice/xml.ts';
import { XmlSyntaxError } from '../src/superoffice/sax-driver.ts';
import { mulberry32 } from './helpers/prng.ts';
import { batchAnswer, S11, taskXml } from './helpers/soap-server.ts';

/**
 * Seeded fuzzing of the response reader: mutated SOAP answers must give a result or a typed SuperOfficeError,
 * never another exception, within a bounded time and memory per case. `npm test` runs a few thousand cases;
 * BATCHWATCH_FUZZ_CASES=100000 (and BATCHWATCH_FUZZ_SEED) run a longer campaign.
 */

const CASES = Number(process.env.BATCHWATCH_FUZZ_CASES ?? 3000);
const SEED = Number(process.env.BATCHWATCH_FUZZ_SEED ?? 20_240_701);
/** Generous: a case is a few KB to ~1 MB and takes milliseconds; before the hardening some took minutes. */
const MAX_CASE_MS = 2000;
const MAX_HEAP_GROWTH = 200 * 1024 * 1024;

const SEEDS: string[] = [
  batchResponseBody(3, 'GetBatchTaskInfosByAssociates'),
  batchAnswer(
    `${taskXml({ Id: '1' })}<BatchTaskInfo i:nil="true"/>${taskXml({ Id: '2', ParameterObject: '<StringKeyValuePair><Key>k</Key><Value i:nil="true"/></StringKeyValuePair>' })}`,
  ),
  batchAnswer(''),
  batchInBandFailure({ exceptionType: 'SoSessionException', message: 'expired', friendlyText: 'log in' }),
  soapFault('s:Client', 'Ticket unknown'),
  `<?xml version="1.0" encoding="UTF-8"?><E:Envelope xmlns:E="http://www.w3.org/2003/05/soap-envelope" xmlns:B="http://www.superoffice.net/ws/crm/NetServer/Services85"><B:Succeeded>true</B:Succeeded><E:Body><B:GetBatchTaskInfosByAssociatesResponse><B:Response><B:BatchTaskInfo><B:Id>4711</B:Id><B:LastStarted>2024-03-01T10:00:00Z</B:LastStarted><B:State>Failed</B:State></B:BatchTaskInfo></B:Response></B:GetBatchTaskInfosByAssociatesResponse></E:Body></E:Envelope>`,
  `<s:Envelope xmlns:s="${S11}"><s:Body><s:Fault><faultcode>s:Server</faultcode><faultstring xml:lang="en">x</faultstring></s:Fault></s:Body></s:Envelope>`,
];

const TOKENS = [
  '<',
  '>',
  '&',
  '/>',
  '</',
  '"',
  "'",
  '=',
  '&amp;',
  '&#0;',
  '&#x10FFFF;',
  '&#xD800;',
  '&bogus;',
  '&lt',
  '<![CDATA[',
  ']]>',
  '<!--',
  '-->',
  '<?xml version="1.0"?>',
  '<!DOCTYPE x>',
  ' xmlns:a="urn:x"',
  ' xmlns=""',
  ' i:nil="true"',
  ' a:b="c"',
  '<BatchTaskInfo>',
  '</BatchTaskInfo>',
  '<Response>',
  '</Response>',
  '<Id>',
  '</Id>',
  '<Id>99999999999999999999</Id>',
  '<LastStarted>0002-02-29T00:00:00+99:99</LastStarted>',
  '<State>Failed</State>',
  '<ProgressPercent>NaN</ProgressPercent>',
  '<ParameterObject>',
  '<StringKeyValuePair><Key>__proto__</Key>',
  '<Succeeded>false</Succeeded>',
  '<ExceptionInfo><Message>m</Message></ExceptionInfo>',
  '\u0000',
  '\uFFFE',
  '\uD800',
  '😀',
  'é',
  '\r\n',
  '\t',
];

type Rng = () => number;
const int = (rng: Rng, n: number) => Math.floor(rng() * n);
const pick = <T>(rng: Rng, list: readonly T[]): T => list[int(rng, list.length)] as T;

/** One mutation of `text`; a few of them blow it up (floods), most are local edits. */
function mutate(rng: Rng, text: string): string {
  const at = int(rng, text.length + 1);
  const roll = rng();
  if (roll < 0.25) return text.slice(0, at) + pick(rng, TOKENS) + text.slice(at);
  if (roll < 0.4) return text.slice(0, at) + text.slice(at + 1 + int(rng, 40));
  if (roll < 0.5) return text.slice(0, at) + String.fromCharCode(int(rng, 0x3000)) + text.slice(at + 1);
  if (roll < 0.6) {
    const from = int(rng, text.length);
    return text.slice(0, at) + text.slice(from, from + int(rng, 200)) + text.slice(at);
  }
  if (roll < 0.7) return text.slice(0, at);
  if (roll < 0.985) {
    const close = text.indexOf('>', at);
    return close < 0
      ? text
      : text.slice(0, close) + pick(rng, [' a="1"', ' i:nil="true"', ' xmlns:q="urn:q"', " b='2'"]) + text.slice(close);
  }
  // Floods: many attributes, deep nesting, a long text, many elements.
  const flood = pick(rng, [
    () => `<x${Array.from({ length: 20_000 }, (_, i) => ` a${i}="1"`).join('')}>`,
    () => '<a>'.repeat(5000),
    () => 'x'.repeat(300_000),
    () => '<e/>'.repeat(50_000),
    () => '&amp;'.repeat(50_000),
  ]);
  return text.slice(0, at) + flood() + text.slice(at);
}

/** Feeds `body` to the client's reader in random chunk sizes, as bytes, like a socket would. */
function readThroughClient(rng: Rng, body: string, status: number): BatchCallResult {
  const reader = batchCallReader(
    'GetBatchTaskInfosByAssociates',
    'GetBatchTaskInfosByAssociatesResponse',
    'Europe/Oslo',
    (t) => t,
  )({
    status,
    contentType: 'text/xml',
  });
  const bytes = Buffer.from(body, 'utf8');
  for (let at = 0; at < bytes.length; ) {
    const size = 1 + int(rng, rng() < 0.2 ? 16 : 70_000);
    reader.write(bytes.subarray(at, at + size));
    at += size;
  }
  return reader.end();
}

function checkResult(result: BatchCallResult): void {
  if (!result.ok) {
    assert.ok(result.refusal instanceof SuperOfficeError);
    return;
  }
  for (const task of result.tasks) {
    assert.ok(Number.isSafeInteger(task.id));
    assert.equal(typeof task.state, 'string');
    assert.ok(task.progressPercent === null || (task.progressPercent >= 0 && task.progressPercent <= 100));
    for (const date of [task.lastStarted, task.created]) assert.ok(date === null || Number.isFinite(date));
  }
  for (const problem of result.problems) assert.equal(typeof problem.message, 'string');
}

describe(`fuzzing the response reader (${CASES} cases, seed ${SEED})`, () => {
  it('gives a result or a typed SuperOfficeError, in bounded time and memory, for every case', () => {
    const rng = mulberry32(SEED);
    const heapBefore = process.memoryUsage().heapUsed;
    let slowest = { ms: 0, case: -1 };
    const outcomes = { ok: 0, refused: 0, errors: 0 };
    for (let n = 0; n < CASES; n++) {
      let body = pick(rng, SEEDS);
      const mutations = 1 + int(rng, 6);
      for (let m = 0; m < mutations; m++) body = mutate(rng, body);
      const status = rng() < 0.85 ? 200 : pick(rng, [500, 503, 404]);
      const started = performance.now();
      try {
        const result = readThroughClient(rng, body, status);
        checkResult(result);
        if (result.ok) outcomes.ok++;
        else outcomes.refused++;
      } catch (error) {
        if (!(error instanceof SuperOfficeError)) {
          assert.fail(
            `case ${n} (seed ${SEED}) threw ${String(error)}\n${(error as Error).stack}\ninput (first 500 chars): ${JSON.stringify(body.slice(0, 500))}`,
          );
        }
        outcomes.errors++;
      }
      const ms = performance.now() - started;
      if (ms > slowest.ms) slowest = { ms, case: n };
      assert.ok(ms < MAX_CASE_MS, `case ${n} (seed ${SEED}) took ${ms.toFixed(0)} ms`);
      // The tree parser (login answers, simulator requests) takes the same inputs: only XmlSyntaxError or a tree.
      if (n % 10 === 0) {
        try {
          parseXml(body);
        } catch (error) {
          if (!(error instanceof XmlSyntaxError)) assert.fail(`parseXml, case ${n}: ${String(error)}`);
        }
      }
    }
    const growth = process.memoryUsage().heapUsed - heapBefore;
    assert.ok(growth < MAX_HEAP_GROWTH, `heap grew by ${(growth / 1024 / 1024).toFixed(0)} MiB`);
    assert.ok(outcomes.ok > 0 && outcomes.errors > 0, `the cases are varied: ${JSON.stringify(outcomes)}`);
  });
});

/**
 * The response parser alone against node-soap's parse-only `wsdl.xmlToObject`, on the same bytes in the same
 * run, interleaved (issue 16's "parser alone" row): an answer of N tasks built like the simulator's.
 */
import { createClientAsync } from 'soap';
import { batchResponseBody } from '../src/simulator/responses.ts';
import { batchCallReader } from '../src/superoffice/batch-call.ts';
import { DEFAULT_BATCH_WSDL } from '../src/superoffice/client.ts';
import { summarize } from './stats.ts';

/** Socket-sized pieces, as the product gets them from the response stream. */
const CHUNK = 64 * 1024;

export interface ParseBenchResult {
  tasks: number;
  bytes: number;
  rounds: number;
  /** Wall and CPU milliseconds per parse (medians over the rounds). */
  oursMs: number;
  soapMs: number;
  oursCpuMs: number;
  soapCpuMs: number;
}

interface XmlToObject {
  xmlToObject(xml: string): unknown;
}

/** node-soap's parser for our own WSDL (the types it maps the answer with). */
async function nodeSoapParser(): Promise<XmlToObject> {
  const client = await createClientAsync(DEFAULT_BATCH_WSDL, { disableCache: true });
  const wsdl: unknown = (client as unknown as { wsdl?: unknown }).wsdl;
  if (typeof wsdl !== 'object' || wsdl === null || typeof (wsdl as XmlToObject).xmlToObject !== 'function') {
    throw new Error('node-soap client without wsdl.xmlToObject');
  }
  return wsdl as XmlToObject;
}

/** One parse by the product: bytes in 64 KiB pieces through the same reader a call uses (decode, stream, validate, judge). */
function parseOurs(chunks: readonly Buffer[], expectTasks: number): void {
  const reader = batchCallReader(
    'GetBatchTaskInfosByState',
    'GetBatchTaskInfosByStateResponse',
    'UTC',
    (t) => t,
  )({ status: 200, contentType: 'text/xml' });
  for (const chunk of chunks) reader.write(chunk);
  const result = reader.end();
  if (!result.ok || result.tasks.length !== expectTasks) throw new Error('the product parser did not read every task');
}

/**
 * Wall and CPU ms per call of `fn`, over `reps` calls. No forced GC around it: a full collection also throws
 * away compiled code and type feedback, which would measure a cold parser rather than a poll's.
 */
function timed(fn: () => void, reps: number): { wall: number; cpu: number } {
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < reps; i++) fn();
  const wall = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { wall: wall / reps, cpu: (used.user + used.system) / 1000 / reps };
}

export async function benchParse(tasks: number, rounds: number): Promise<ParseBenchResult> {
  const soap = await nodeSoapParser();
  const body = batchResponseBody(tasks);
  const bytes = Buffer.from(body, 'utf8');
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += CHUNK) chunks.push(bytes.subarray(at, at + CHUNK));
  // Warm-up of both, then alternate which goes first so that neither always runs on a warmer heap.
  parseOurs(chunks, tasks);
  soap.xmlToObject(body);
  const ours: { wall: number; cpu: number }[] = [];
  const theirs: { wall: number; cpu: number }[] = [];
  // Small answers are parsed several times per sample so that a sample is long enough to time.
  const reps = Math.max(1, Math.round(20_000 / tasks));
  for (let round = 0; round < rounds; round++) {
    const runOurs = () => ours.push(timed(() => parseOurs(chunks, tasks), reps));
    const runSoap = () => theirs.push(timed(() => void soap.xmlToObject(body), reps));
    if (round % 2 === 0) {
      runOurs();
      runSoap();
    } else {
      runSoap();
      runOurs();
    }
  }
  const median = (list: { wall: number; cpu: number }[], key: 'wall' | 'cpu') => summarize(list.map((x) => x[key])).median;
  return {
    tasks,
    bytes: bytes.length,
    rounds,
    oursMs: median(ours, 'wall'),
    soapMs: median(theirs, 'wall'),
    oursCpuMs: median(ours, 'cpu'),
    soapCpuMs: median(theirs, 'cpu'),
  };
}

export const PARSE_BENCH_NOTES = [
  'Same bytes, same run, interleaved (the order alternates per round); medians. Ours = the reader a SOAP call uses,',
  'fed 64 KiB Buffers (UTF-8 decoding, streaming to task records, field validation, envelope judging);',
  'node-soap = wsdl.xmlToObject(string) of the same answer with the project WSDL (parse only, no HTTP).',
  'Ratio = node-soap time / ours (above 1: ours is faster; goal >= 1.2). CPU time includes the GC threads of both.',
];

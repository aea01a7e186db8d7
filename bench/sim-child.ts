/**
 * A SuperOffice stand-in in a process of its own, driven by the benchmark over IPC, so that building
 * answers never counts as the poll's time or CPU. Logins go to the real simulator; the Batch answer
 * (the simulator's own XML for the current table) is built once per table change, before it is asked
 * for, and then sent as bytes, like a server that answers at network speed. Each answer's end is noted
 * (for poll answer -> mail latency) and the current answers can be saved (for the node-soap baseline on the same bytes).
 */
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BatchTaskInfo } from '../src/core/task.ts';
import { batchTasksResponse } from '../src/simulator/responses.ts';
import { startSimulator } from '../src/simulator/server.ts';
import { Fleet } from './fleet.ts';
import type { AnswerRecord, ChildReply, ChildRequest } from './sim-protocol.ts';

const simulator = await startSimulator({ scenario: 'empty' });
const upstream = new URL(simulator.url);
let fleet: Fleet | null = null;
/** Steps applied so far; an answer is tagged with the generation it was built from. */
let generation = 0;
let autoStep = false;
let associates = 1;
let perRequest = 100;
/** The answer to each request of a poll (request i asks for associates i*perRequest+1 ...), for the current table. */
let answersByRequest: Buffer[] = [Buffer.from(batchTasksResponse([], 'UTC'))];
/** Requests of the current generation answered so far: the table steps once a whole poll was answered. */
const servedThisGeneration = new Set<number>();
const answers: AnswerRecord[] = [];
/** task id -> generation in which it became Failed. */
const failedIn = new Map<number, number>();

function render(): void {
  const tasks: BatchTaskInfo[] = fleet ? fleet.current().sort((a, b) => a.id - b.id) : [];
  const requests = Math.max(1, Math.ceil(associates / perRequest));
  answersByRequest = Array.from({ length: requests }, (_, i) =>
    Buffer.from(
      batchTasksResponse(
        tasks.filter((t) => Math.floor((t.associateId - 1) / perRequest) === i),
        'UTC',
      ),
    ),
  );
  servedThisGeneration.clear();
}

/** Which request of a poll this is, from the first associate id it asks for. */
function requestIndex(body: string): number {
  const first = /<(?:\w+:)?int\b[^>]*>\s*(\d+)\s*</.exec(body)?.[1];
  if (first === undefined) throw new Error('a Batch request without associate ids');
  return Math.min(answersByRequest.length - 1, Math.max(0, Math.floor((Number(first) - 1) / perRequest)));
}

function applyStep(now: number, forceFailure: boolean): { changed: number; removed: number } {
  if (!fleet) throw new Error('no fleet loaded');
  const step = fleet.step(now);
  if (forceFailure) {
    const failed = fleet.failOne(now);
    if (failed) step.changed.push(failed);
  }
  generation += 1;
  for (const task of step.changed) {
    if (task.state === 'Failed' && !failedIn.has(task.id)) failedIn.set(task.id, generation);
  }
  render();
  return { changed: step.changed.length, removed: step.removed.length };
}

function forwardToSimulator(req: http.IncomingMessage, res: http.ServerResponse): void {
  const forward = http.request(
    { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers },
    (reply) => {
      res.writeHead(reply.statusCode ?? 502, reply.headers);
      reply.pipe(res);
    },
  );
  forward.on('error', () => res.destroy());
  req.pipe(forward);
}

const server = http.createServer((req, res) => {
  if (!(req.url ?? '').toLowerCase().includes('batch.svc')) return forwardToSimulator(req, res);
  let request = '';
  req.on('data', (chunk: Buffer) => (request += chunk.toString('utf8')));
  req.on('end', () => {
    const servedGeneration = generation;
    let index: number;
    try {
      index = requestIndex(request);
    } catch (error) {
      res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end(String(error));
      return;
    }
    const body = answersByRequest[index]!;
    res.writeHead(200, { 'Content-Type': 'text/xml; charset=utf-8', 'Content-Length': body.length });
    res.end(body, () => {
      answers.push({ generation: servedGeneration, endedAt: performance.timeOrigin + performance.now(), bytes: body.length });
      if (servedGeneration !== generation) return;
      servedThisGeneration.add(index);
      if (autoStep && servedThisGeneration.size === answersByRequest.length) applyStep(Date.now(), true);
    });
  });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${upstream.pathname}`;

function reply(message: ChildReply): void {
  process.send?.(message);
}

process.on('message', (message: ChildRequest) => {
  try {
    switch (message.type) {
      case 'load':
        fleet = new Fleet({ tasks: message.tasks, associates: message.associates, now: message.now, seed: message.seed });
        associates = message.associates;
        perRequest = message.perRequest;
        generation = 0;
        answers.length = 0;
        failedIn.clear();
        render();
        reply({ type: 'loaded', url });
        return;
      case 'step':
        reply({ type: 'stepped', ...applyStep(message.now, message.forceFailure ?? false) });
        return;
      case 'auto-step':
        autoStep = message.on;
        // A poll's worth of answers counts from now on.
        servedThisGeneration.clear();
        reply({ type: 'ok' });
        return;
      case 'answers':
        reply({ type: 'answers', answers: [...answers], failedIn: [...failedIn] });
        return;
      case 'dump': {
        const files = answersByRequest.map((body, i) => {
          writeFileSync(`${message.path}.${i}`, body);
          return `${message.path}.${i}`;
        });
        reply({ type: 'dumped', files, bytes: answersByRequest.reduce((sum, body) => sum + body.length, 0) });
        return;
      }
      case 'stop':
        server.close();
        server.closeAllConnections();
        void simulator.close().then(() => process.exit(0));
        return;
    }
  } catch (error) {
    reply({ type: 'error', message: error instanceof Error ? error.message : String(error) });
  }
});
process.on('disconnect', () => process.exit(0));
reply({ type: 'ready' });

/** Messages between the benchmark and its simulator child process (bench/sim-child.ts), and the parent's side. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface AnswerRecord {
  /** Fleet steps applied when the request arrived. */
  generation: number;
  /** When the last byte was handed to the socket (unix ms, sub-millisecond). */
  endedAt: number;
  bytes: number;
}

export type ChildRequest =
  /** Associates 1..associates, asked for in requests of `perRequest` consecutive ids (the client's associatesPerRequest). */
  | { type: 'load'; tasks: number; associates: number; perRequest: number; seed: number; now: number }
  | { type: 'step'; now: number; forceFailure?: boolean }
  | { type: 'auto-step'; on: boolean }
  | { type: 'answers' }
  /** Writes the current answers, one file per request of a poll: `${path}.0`, `${path}.1`, ... */
  | { type: 'dump'; path: string }
  | { type: 'stop' };

export type ChildReply =
  | { type: 'ready' }
  | { type: 'loaded'; url: string }
  | { type: 'stepped'; changed: number; removed: number }
  | { type: 'ok' }
  | { type: 'answers'; answers: AnswerRecord[]; failedIn: [number, number][] }
  | { type: 'dumped'; files: string[]; bytes: number }
  | { type: 'error'; message: string };

const CHILD = fileURLToPath(new URL('./sim-child.ts', import.meta.url));

/** The parent's handle on the simulator child: one request at a time, answered in order. */
export class SimulatorChild {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(private readonly proc: ChildProcess) {}

  static async start(): Promise<SimulatorChild> {
    const proc = fork(CHILD, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    await new Promise<void>((resolve, reject) => {
      proc.once('message', (m: ChildReply) =>
        m.type === 'ready' ? resolve() : reject(new Error(`simulator child: ${JSON.stringify(m)}`)),
      );
      proc.once('exit', (code) => reject(new Error(`simulator child exited (${code})`)));
    });
    return new SimulatorChild(proc);
  }

  get pid(): number {
    return this.proc.pid ?? 0;
  }

  request<T extends ChildReply['type']>(message: ChildRequest, expect: T): Promise<Extract<ChildReply, { type: T }>> {
    const next = this.queue.then(
      () =>
        new Promise<Extract<ChildReply, { type: T }>>((resolve, reject) => {
          this.proc.once('message', (reply: ChildReply) => {
            if (reply.type === expect) resolve(reply as Extract<ChildReply, { type: T }>);
            else reject(new Error(`simulator child answered ${JSON.stringify(reply)} to ${message.type}`));
          });
          this.proc.send(message);
        }),
    );
    this.queue = next.catch(() => undefined);
    return next;
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null) return;
    const exited = new Promise((resolve) => this.proc.once('exit', resolve));
    this.proc.send({ type: 'stop' } satisfies ChildRequest);
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 3000))]);
    if (this.proc.exitCode === null) this.proc.kill('SIGKILL');
  }
}

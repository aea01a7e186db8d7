import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { existsSync } from 'node:fs';

/** A redis-server child process on a loopback port, for `demo` and the test suite. */
export interface PrivateRedis {
  readonly url: string;
  readonly port: number;
  /** Kills the server (SIGKILL-free shutdown) but keeps port and data dir, so `start()` brings it back. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server for good and removes its data dir. */
  close(): Promise<void>;
}

export const REDIS_MISSING_HINT =
  'Redis is needed: set REDIS_URL=redis://host:6379, or put redis-server on PATH (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis).';

export function findRedisServer(env: NodeJS.ProcessEnv = process.env): string | null {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'redis-server');
    if (existsSync(candidate)) return candidate;
  }
  return null;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let answer = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      answer += chunk.toString();
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG'));
    });
  });
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

export async function startPrivateRedis(options: { binary?: string; port?: number } = {}): Promise<PrivateRedis> {
  const binary = options.binary ?? findRedisServer();
  if (!binary) throw new Error(REDIS_MISSING_HINT);
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'batchwatch-redis-'));
  let child: ChildProcess | null = null;
  let stderr = '';

  const start = async () => {
    if (child) return;
    stderr = '';
    const proc = spawn(
      binary,
      [
        '--port', String(port), '--bind', '127.0.0.1', '--dir', dir,
        // Append-only persistence so a stop/start keeps the data, like a production Redis would.
        '--save', '', '--appendonly', 'yes', '--appendfsync', 'always',
        '--maxmemory-policy', 'noeviction', '--daemonize', 'no', '--logfile', '',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child = proc;
    // Never outlive our process (a test runner's forced exit, an uncaught error): no orphaned servers.
    const killOnExit = () => proc.kill('SIGKILL');
    process.once('exit', killOnExit);
    proc.on('exit', () => {
      process.off('exit', killOnExit);
      if (child === proc) child = null;
    });
    try {
      await waitFor(() => ping(port), 10_000, `redis-server on port ${port}`);
    } catch (error) {
      proc.kill('SIGKILL');
      throw new Error(`${(error as Error).message}${stderr ? `: ${stderr.trim()}` : ''}`);
    }
  };

  const stop = async () => {
    const proc = child;
    if (!proc) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      proc.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      proc.kill('SIGTERM');
    });
    child = null;
  };

  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    start,
    stop,
    close: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

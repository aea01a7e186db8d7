/** A private redis-server child process on a free loopback port (demo and tests), stoppable and restartable. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';

/** A redis-server child process on a loopback port, for `demo` and the test suite. */
export interface PrivateRedis {
  /** redis://127.0.0.1:PORT (rediss:// when started with `tls`). */
  readonly url: string;
  readonly port: number;
  /** The server's data directory (kept across stop/start). */
  readonly dir: string;
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

export interface PrivateRedisOptions {
  binary?: string;
  port?: number;
  /** More redis-server arguments, e.g. ['--cluster-enabled', 'yes'] or ['--replicaof', '127.0.0.1', '7000']. */
  args?: string[];
  /** Run as a Sentinel with these config lines (e.g. 'sentinel monitor mymaster 127.0.0.1 7000 2'). */
  sentinel?: string[];
  /** Serve TLS only (no plain port) with this certificate and key (PEM files); clients are not asked for certificates. */
  tls?: { certFile: string; keyFile: string };
}

function ping(port: number, tls: boolean): Promise<boolean> {
  return new Promise((resolve) => {
    // The readiness ping of our own child process: its certificate is not what is being checked here.
    const socket: Socket = tls
      ? tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false })
      : createConnection({ host: '127.0.0.1', port });
    const ready = tls ? 'secureConnect' : 'connect';
    let answer = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.on('error', () => done(false));
    socket.on(ready, () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      answer += chunk.toString();
      // A server with requirepass answers -NOAUTH: it is up all the same.
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG') || answer.startsWith('-NOAUTH'));
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

/** The command line of one server: a data node (persistent, noeviction) or a Sentinel, plain or TLS. */
function serverArgs(port: number, dir: string, options: PrivateRedisOptions): string[] {
  const listen = options.tls
    ? [
        '--port',
        '0',
        '--tls-port',
        String(port),
        '--tls-cert-file',
        options.tls.certFile,
        '--tls-key-file',
        options.tls.keyFile,
        '--tls-auth-clients',
        'no',
      ]
    : ['--port', String(port)];
  const common = [...listen, '--bind', '127.0.0.1', '--dir', dir, '--daemonize', 'no', '--logfile', ''];
  if (options.sentinel) {
    // A Sentinel rewrites its config file as it learns the topology: it must be its own, writable file.
    const file = join(dir, 'sentinel.conf');
    if (!existsSync(file)) writeFileSync(file, `${options.sentinel.join('\n')}\n`);
    return [file, '--sentinel', ...common, ...(options.args ?? [])];
  }
  return [
    ...common,
    // Append-only persistence so a stop/start keeps the data, like a production Redis would.
    '--save',
    '',
    '--appendonly',
    'yes',
    '--appendfsync',
    'always',
    '--maxmemory-policy',
    'noeviction',
    ...(options.args ?? []),
  ];
}

export async function startPrivateRedis(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
  const binary = options.binary ?? findRedisServer();
  if (!binary) throw new Error(REDIS_MISSING_HINT);
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), options.sentinel ? 'batchwatch-sentinel-' : 'batchwatch-redis-'));
  let child: ChildProcess | null = null;
  let stderr = '';

  const start = async () => {
    if (child) return;
    stderr = '';
    const proc = spawn(binary, serverArgs(port, dir, options), { stdio: ['ignore', 'ignore', 'pipe'] });
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
      await waitFor(
        async () => {
          if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`redis-server on port ${port} exited at start`);
          return ping(port, options.tls !== undefined);
        },
        10_000,
        `redis-server on port ${port}`,
      );
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
    url: `${options.tls ? 'rediss' : 'redis'}://127.0.0.1:${port}`,
    port,
    dir,
    start,
    stop,
    close: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

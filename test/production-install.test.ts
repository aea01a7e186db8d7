// The Docker image's contents where Docker cannot run: the Dockerfile's production install in a temp dir (its deps
// stage and what the runtime stage copies), with `check`, `run` and `simulator` started from it; and, in this
// checkout, which modules the compiled `run` and `check` load.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort } from '../src/runtime/private-redis.ts';
import { startSimulator, type Simulator } from '../src/simulator/server.ts';
import { runCli, startCli, type CliOptions } from './helpers/cli.ts';
import { startRedis, type PrivateRedis } from './helpers/redis.ts';
import { startSmtpServer, type TestSmtpServer } from './helpers/smtp.ts';
import { waitUntil } from './helpers/wait.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RECORD_MODULES = fileURLToPath(new URL('./fixtures/record-modules.js', import.meta.url));
/** Development, demo and simulator packages: production has none of them, and `run` and `check` load none. */
const DEVELOPMENT_PACKAGES = ['tsx', 'esbuild', 'typescript', 'smtp-server', 'mailparser', 'node-forge', 'playwright'];

/**
 * Runs a command to completion; rejects with its output when it fails. Without the npm_* variables `npm test` sets
 * (npm_config_local_prefix among them), so that the inner npm works on `cwd`, never on this checkout.
 */
function exec(command: string, args: string[], cwd: string): Promise<void> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)));
  return new Promise((resolve, reject) => {
    const proc = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    proc.stdout.on('data', (d: Buffer) => (output += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (output += d.toString()));
    proc.on('error', reject);
    proc.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited ${code}:\n${output}`))));
  });
}

/** The packages a module list names (…/node_modules/NAME/… or @scope/NAME). */
function packagesIn(modules: readonly string[]): Set<string> {
  const names = new Set<string>();
  for (const line of modules) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(line);
    if (match?.[1]) names.add(match[1]);
  }
  return names;
}

describe('the production install (what the Docker image holds)', () => {
  let redis: PrivateRedis;
  let simulator: Simulator;
  let smtp: TestSmtpServer;
  let dir: string;
  let app: string;
  let config: string;
  let httpPort: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'batchwatch-production-'));
    app = join(dir, 'app');
    // The runtime stage's files: package.json, the lock file, bin/, config/, and dist/ from the build stage (this
    // checkout's: `npm run build` is the build stage's command, and helpers/cli.ts refuses a dist/ older than src/).
    for (const entry of ['package.json', 'package-lock.json', 'bin', 'config', 'dist'])
      cpSync(join(ROOT, entry), join(app, entry), { recursive: true });
    // The deps stage (npm's cache is warm: offline when it can).
    await exec('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'], app);
    [redis, simulator, smtp] = await Promise.all([startRedis(), startSimulator({ scenario: 'empty' }), startSmtpServer()]);
    httpPort = await freePort();
    config = join(dir, 'batchwatch.yaml');
    writeFileSync(
      config,
      `superoffice: { url: "${simulator.url}", username: demo, password: demo, timeout: 3s }
redis: { url: "${redis.url}", prefix: production }
schedules: [{ name: sales, associates: [101], every: 1s }]
mail: { smtp: "smtp://127.0.0.1:${smtp.port}", from: bw@example.com, to: [ops@example.com] }
http: { host: 127.0.0.1, port: ${httpPort} }
`,
    );
  });
  after(async () => {
    await smtp?.stop();
    await simulator?.close();
    await redis?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const production = (): CliOptions => ({ bin: join(app, 'bin', 'batchwatch.js') });

  it('holds the compiled build, its WSDLs and production dependencies only', () => {
    assert.ok(existsSync(join(app, 'dist', 'cli', 'main.js')), 'dist/cli/main.js');
    assert.ok(existsSync(join(app, 'dist', 'superoffice', 'wsdl', 'Batch.wsdl')), 'the WSDLs are copied next to the compiled client');
    assert.ok(!existsSync(join(app, 'src')), 'no sources');
    assert.ok(existsSync(join(app, 'node_modules', 'bullmq')), 'production dependencies are installed');
    const present = DEVELOPMENT_PACKAGES.filter((name) => existsSync(join(app, 'node_modules', name)));
    assert.deepEqual(present, [], 'no development packages');
  });

  it('passes `check` against Redis, the simulator and SMTP', async () => {
    const result = await runCli(['check', '--config', config], {}, production());
    assert.equal(result.code, 0, `check failed:\n${result.stdout}\n${result.stderr}`);
    assert.doesNotMatch(result.stdout, /FAIL/);
  });

  it('runs the daemon until it is ready, and exits 0 on SIGTERM', async () => {
    const daemon = startCli(['run', '--config', config], {}, production());
    try {
      const ready = () =>
        fetch(`http://127.0.0.1:${httpPort}/readyz`).then(
          (r) => r.status === 200,
          () => false,
        );
      await waitUntil(async () => daemon.proc.exitCode !== null || (await ready()), 30_000, '/readyz 200');
      assert.equal(daemon.proc.exitCode, null, `the daemon exited:\n${daemon.stdout()}\n${daemon.stderr()}`);
      daemon.proc.kill('SIGTERM');
      assert.deepEqual(await daemon.exited(), { code: 0, signal: null });
    } finally {
      daemon.proc.kill('SIGKILL');
    }
  });

  it('says that `simulator` needs the devDependencies', async () => {
    const result = await runCli(['simulator', '--port', '0'], {}, production());
    assert.equal(result.code, 1);
    assert.match(result.stderr, /"simulator" needs the devDependencies/);
  });

  it('loads no development, demo or simulator module for `run` and `check` (this checkout, where they are installed)', async () => {
    const log = join(dir, 'modules.log');
    const recorded = (): CliOptions => ({ nodeArgs: ['--import', RECORD_MODULES] });
    const env = { BATCHWATCH_MODULE_LOG: log };
    const check = await runCli(['check', '--config', config], env, recorded());
    assert.equal(check.code, 0, check.stderr);
    const daemon = startCli(['run', '--config', config], env, recorded());
    try {
      await waitUntil(
        () =>
          fetch(`http://127.0.0.1:${httpPort}/readyz`).then(
            (r) => r.status === 200,
            () => false,
          ),
        30_000,
        '/readyz 200',
      );
      daemon.proc.kill('SIGTERM');
      assert.equal((await daemon.exited()).code, 0);
    } finally {
      daemon.proc.kill('SIGKILL');
    }
    const modules = readFileSync(log, 'utf8').split('\n');
    assert.ok(
      modules.some((m) => m.includes('/dist/cli/main.js')),
      'the compiled build ran',
    );
    assert.ok(!modules.some((m) => m.includes(`${join(ROOT, 'src')}/`)), 'no source file ran');
    const loaded = packagesIn(modules);
    for (const expected of ['bullmq', 'ioredis', 'nodemailer', 'prom-client'])
      assert.ok(loaded.has(expected), `the recording sees ${expected}`);
    assert.deepEqual(
      DEVELOPMENT_PACKAGES.filter((name) => loaded.has(name)),
      [],
    );
  });
});

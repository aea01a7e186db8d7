// Runs the batchwatch CLI as users do (bin/batchwatch.js, which runs the compiled dist/) and collects its output.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/batchwatch.js', import.meta.url));

/**
 * The CLI tests exercise the build users run, so `npm test` builds before testing. Run alone (`node --import tsx
 * --test test/cli-x.test.ts`), a missing or stale dist/ would test old code (or, missing, the sources through
 * tsx): refuse it and say what to run.
 */
function assertFreshBuild(): void {
  const src = fileURLToPath(new URL('../../src', import.meta.url));
  const built = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
  let builtAt: number;
  try {
    builtAt = statSync(built).mtimeMs;
  } catch {
    throw new Error('dist/ is missing: run `npm run build` before the CLI tests (npm test does)');
  }
  const newer = readdirSync(src, { recursive: true, encoding: 'utf8' }).find((file) => statSync(join(src, file)).mtimeMs > builtAt);
  if (newer !== undefined) throw new Error(`dist/ is older than src/${newer}: run \`npm run build\` before the CLI tests (npm test does)`);
}
assertFreshBuild();

export interface CliProcess {
  proc: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code and how long after the call the process exited. */
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitForOutput(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
}

export interface CliOptions {
  /** Another install's bin/batchwatch.js (default: this checkout's). */
  bin?: string;
  /** Node options before the script, e.g. ['--import', hook]. */
  nodeArgs?: string[];
}

export function startCli(args: string[], env: NodeJS.ProcessEnv = {}, options: CliOptions = {}): CliProcess {
  const proc = spawn(process.execPath, [...(options.nodeArgs ?? []), options.bin ?? BIN, ...args], {
    env: { ...process.env, ...env },
    stdio: 'pipe',
  });
  let out = '';
  let err = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    exited: () => exit,
    async waitForOutput(pattern, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const match = (out + err).match(pattern);
        if (match) return match;
        if (proc.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`no output matching ${pattern} within ${timeoutMs} ms\nstdout:\n${out}\nstderr:\n${err}`);
    },
  };
}

/** Runs the CLI to completion. */
export async function runCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  options: CliOptions = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const cli = startCli(args, env, options);
  const { code } = await cli.exited();
  return { code, stdout: cli.stdout(), stderr: cli.stderr() };
}

import { readFileSync } from 'node:fs';
import { scrubSecrets } from '../redact/secrets.ts';
import { UsageError } from './args.ts';
import { installScrubbedOutput } from './output.ts';

const USAGE = `batchwatch — watches SuperOffice batch tasks, alerts once when one fails or stalls

Usage: batchwatch <command> [options]

Commands:
  run              [--config FILE]                                  the daemon: schedules, polls, notifications, HTTP
  check            [--config FILE]                                  validate config, reach Redis, SuperOffice and SMTP
  poll-once        [--config FILE] [--schedule NAME] [--dry-run] [--json]
                                                                    poll once and print tasks and events
  demo             [--port N]                                       the whole system on this machine, no set-up
  simulator        [--port N] [--scenario NAME] [--smtp-port N]     the SuperOffice simulator and a mail catcher (8085, 2525)
  send-test-email  [--config FILE]                                  send one test message through the configured SMTP
  silence add      [--config FILE] [--task GLOB] [--task-id N] [--associate N] [--schedule NAME] [--kind KIND]
                   (--for DURATION | --until ISO-8601) [--from ISO-8601] --comment TEXT [--author NAME]
                                                                    stop mail for matching alerts for a while; prints the id
  silence list     [--config FILE] [--json]                         silences (active, pending, expired) and maintenance windows
  silence expire   [--config FILE] ID                               end a silence now
  ack              [--config FILE] --task-id N [--schedule NAME] --comment TEXT [--author NAME]
                                                                    someone is on it: no reminders until the task's alerts resolve

The config file is --config FILE, else $BATCHWATCH_CONFIG, else config/batchwatch.yaml.
Exit codes: 0 success, 1 runtime failure, 2 bad usage or bad config.
`;

type Command = (argv: string[]) => Promise<number>;

const commands: Record<string, () => Promise<Command>> = {
  run: async () => (await import('./commands/run.ts')).runCommand,
  check: async () => (await import('./commands/check.ts')).checkCommand,
  'poll-once': async () => (await import('./commands/poll-once.ts')).pollOnceCommand,
  demo: async () => (await import('./commands/demo.ts')).demoCommand,
  simulator: async () => (await import('./commands/simulator.ts')).simulatorCommand,
  'send-test-email': async () => (await import('./commands/send-test-email.ts')).sendTestEmailCommand,
  silence: async () => (await import('./commands/silence.ts')).silenceCommand,
  ack: async () => (await import('./commands/ack.ts')).ackCommand,
};

/** Need the devDependencies (smtp-server, mailparser, node-forge), which a production install leaves out. */
const DEVELOPMENT_COMMANDS = new Set(['demo', 'simulator']);

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export async function main(argv: string[]): Promise<number> {
  // Before anything is printed: every line of every command is scrubbed of the secrets registered by then.
  installScrubbedOutput();
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  const load = commands[name];
  if (!load) {
    process.stderr.write(`batchwatch: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  try {
    return await (await load())(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`batchwatch ${name}: ${error.message}\n`);
      return 2;
    }
    if (DEVELOPMENT_COMMANDS.has(name) && (error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') {
      process.stderr.write(
        `batchwatch ${name}: ${error instanceof Error ? error.message : String(error)}\n` +
          `"${name}" needs the devDependencies, which a production install (npm ci --omit=dev, the Docker image) leaves out: run it from a clone after \`npm ci\`\n`,
      );
      return 1;
    }
    // Imported here, not at the top: `--version` and `--help` need no config code (zod, yaml) and start faster.
    const { ConfigError } = await import('../config/load.ts');
    if (error instanceof ConfigError) {
      process.stderr.write(`batchwatch ${name}: invalid configuration\n${error.message}\n`);
      return 2;
    }
    process.stderr.write(scrubSecrets(`batchwatch ${name}: ${error instanceof Error ? error.message : String(error)}\n`));
    return 1;
  }
}

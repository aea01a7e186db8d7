import { SCENARIOS, scenarioNames } from './scenarios.ts';
import { untilSignal } from '../runtime/signals.ts';
import { startSimulator } from './server.ts';

export const DEFAULT_SIMULATOR_PORT = 8085;

/**
 * `batchwatch simulator [--port N] [--scenario NAME]`: runs the simulator until SIGINT/SIGTERM.
 * Resolves 0 after a clean stop, 2 for an unknown scenario, 1 when it cannot start.
 */
export async function runSimulatorCommand(args: { port?: number; scenario?: string; host?: string }): Promise<number> {
  const scenario = args.scenario ?? 'story';
  if (!SCENARIOS[scenario]) {
    process.stderr.write(`batchwatch simulator: unknown scenario "${scenario}" (known: ${scenarioNames().join(', ')})\n`);
    return 2;
  }
  let simulator;
  try {
    simulator = await startSimulator({ port: args.port ?? DEFAULT_SIMULATOR_PORT, host: args.host ?? '127.0.0.1', scenario });
  } catch (err) {
    process.stderr.write(`batchwatch simulator: cannot start: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  const described = SCENARIOS[scenario];
  process.stdout.write(
    [
      `SuperOffice simulator listening at ${simulator.url}`,
      `  scenario ${scenario}: ${described?.description ?? ''}`,
      `  services ${simulator.url}/Remote/Services85/Batch.svc and .../SoPrincipal.svc (user demo, password demo)`,
      '',
      'Use it from batchwatch (export SO_PASSWORD=demo):',
      '',
      'superoffice:',
      `  url: ${simulator.url}`,
      '  username: demo',
      '  password: ${SO_PASSWORD}',
      'schedules:',
      '  - name: demo',
      `    associates: [${(described?.associates ?? []).join(', ')}]`,
      '    every: 5s',
      '  # Every other task, whoever it belongs to (at most one schedule says all; it skips the associates listed above):',
      '  - name: everything',
      '    associates: all',
      '    includeSystemTasks: true     # also the system tasks (associate 0)',
      '    every: 5s',
      '',
      'Ctrl-C stops it.',
      '',
    ].join('\n'),
  );
  const signal = await untilSignal();
  process.stdout.write(`${signal}: stopping the simulator\n`);
  await simulator.close();
  return 0;
}

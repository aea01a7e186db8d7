/** `batchwatch simulator`: runs the SuperOffice simulator and a mail catcher. */
import { runSimulatorCommand } from '../../simulator/command.ts';
import { parseCommandArgs, parsePort } from '../args.ts';

export async function simulatorCommand(argv: string[]): Promise<number> {
  const values = parseCommandArgs(argv, {
    port: { type: 'string' },
    scenario: { type: 'string' },
    host: { type: 'string' },
    'smtp-port': { type: 'string' },
  });
  return runSimulatorCommand({
    ...(values.port !== undefined ? { port: parsePort(values.port, '--port') } : {}),
    ...(values.scenario !== undefined ? { scenario: values.scenario } : {}),
    ...(values.host !== undefined ? { host: values.host } : {}),
    ...(values['smtp-port'] !== undefined ? { smtpPort: parsePort(values['smtp-port'], '--smtp-port') } : {}),
  });
}

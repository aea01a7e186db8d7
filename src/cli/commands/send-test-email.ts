/** `batchwatch send-test-email`: sends one test message through the configured SMTP server. */
import { loadConfig, resolveConfigPath } from '../../config/load.ts';
import { sendTestEmail } from '../../notify/test-email.ts';
import { parseCommandArgs, UsageError } from '../args.ts';

export async function sendTestEmailCommand(argv: string[]): Promise<number> {
  const values = parseCommandArgs(argv, { config: { type: 'string' } });
  const config = loadConfig(resolveConfigPath(values.config, process.env));
  if (!config.mail.enabled) throw new UsageError('mail.enabled is false in the config: nothing to send through');
  const result = await sendTestEmail(config.mail, {});
  process.stdout.write(`${result.line}\n`);
  return result.ok ? 0 : 1;
}

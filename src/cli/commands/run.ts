/** `batchwatch run`: starts the daemon and shuts it down within the service manager's budget on a signal. */
import { loadConfig, resolveConfigPath } from '../../config/load.ts';
import { createLogger } from '../../log.ts';
import { startDaemon } from '../../daemon/daemon.ts';
import { parseCommandArgs } from '../args.ts';
import { untilSignal } from '../../runtime/signals.ts';

/** Shutdown must finish inside the 10 s a service manager grants; in-flight work not done by then is handed back. */
const SHUTDOWN_BUDGET_MS = 9000;

export async function runCommand(argv: string[]): Promise<number> {
  const values = parseCommandArgs(argv, { config: { type: 'string' } });
  const config = loadConfig(resolveConfigPath(values.config, process.env));
  const log = createLogger(config.log.level);
  const daemon = await startDaemon(config, log);
  const signal = await untilSignal();
  log.info({ signal }, 'stopping: no new polls; finishing the one in flight');
  const forced = setTimeout(() => {
    log.warn('shutdown budget exhausted; exiting, unfinished jobs are handed back to the queue');
    process.exit(0);
  }, SHUTDOWN_BUDGET_MS);
  forced.unref();
  await daemon.close();
  clearTimeout(forced);
  log.info('stopped');
  return 0;
}

/** The structured JSON logger (pino) every component logs through; every line is scrubbed of secrets. */
import { pino, type Logger as PinoLogger, type DestinationStream } from 'pino';
import type { CallbackLevel, LogLevel } from './log-levels.ts';
import { scrubSecrets } from './redact/secrets.ts';

export type Logger = PinoLogger;

/** JSON lines on stdout (or `destination`). Config-shaped secrets are censored by key; any registered secret anywhere in a line is scrubbed. */
export function createLogger(level: LogLevel = 'info', destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'batchwatch' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: [
          'password',
          'ticket',
          'applicationToken',
          'privateKey',
          '*.password',
          '*.ticket',
          '*.applicationToken',
          '*.privateKey',
          'smtp',
          '*.smtp',
        ],
        censor: '***',
      },
      // The last line of defence: a secret that reached a message or field (an echoed ticket, a token in an error) never leaves.
      hooks: { streamWrite: scrubSecrets },
    },
    destination,
  );
}

/** Adapts a pino logger to the small `(level, msg, fields)` callback that adapters accept. */
export function logCallback(logger: Logger) {
  return (level: CallbackLevel, msg: string, fields?: Record<string, unknown>) => {
    logger[level](fields ?? {}, msg);
  };
}

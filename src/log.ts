import { pino, type Logger as PinoLogger, type DestinationStream } from 'pino';

export type Logger = PinoLogger;
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** Structured JSON logs on stdout; secrets are redacted wherever a config object is logged. */
export function createLogger(level: LogLevel = 'info', destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'batchwatch' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: ['password', 'ticket', 'applicationToken', '*.password', '*.ticket', '*.applicationToken', 'smtp', '*.smtp'],
        censor: '***',
      },
    },
    destination,
  );
}

/** Adapts a pino logger to the small `(level, msg, fields)` callback that adapters accept. */
export function logCallback(logger: Logger) {
  return (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => {
    logger[level](fields ?? {}, msg);
  };
}

/** The log levels, the one list: what `log.level` accepts (pino's names) and what adapters log at. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The levels an adapter logs at through a `(level, msg, fields)` callback (see logCallback in log.ts). */
export type CallbackLevel = Extract<LogLevel, 'debug' | 'info' | 'warn' | 'error'>;

import pino from 'pino';

export type Logger = pino.Logger;
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

export interface LoggerOptions {
  level: LogLevel;
  /** Name of the component, printed on every line. */
  name?: string;
}

/** Structured JSON logs on stderr (stdout stays free for command output). */
export function createLogger(options: LoggerOptions): Logger {
  return pino({ level: options.level, name: options.name ?? 'hourglass', base: { pid: process.pid } }, pino.destination(2));
}

/** A logger that drops everything; for unit tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

import pino from 'pino';
import { activeTraceIds } from './telemetry/tracing';

export type Logger = pino.Logger;
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

export interface LoggerOptions {
  level: LogLevel;
  /** Name of the component, printed on every line. */
  name?: string;
  /** Where lines go; default stderr. */
  destination?: { write(line: string): void };
}

/**
 * Fields never written whatever a log call passes (a key, a secret, a password): the values are
 * replaced by "[redacted]". Code must not pass them at all; this is the net under it.
 */
export const REDACTED_LOG_PATHS = ['authorization', 'apiKey', 'secret', 'password', 'token', '*.authorization', '*.apiKey', '*.secret', '*.password', '*.token'];

/**
 * Structured JSON logs on stderr (stdout stays free for command output). A line written inside a
 * traced call carries its traceId and spanId.
 */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      name: options.name ?? 'hourglass',
      base: { pid: process.pid },
      redact: { paths: REDACTED_LOG_PATHS, censor: '[redacted]' },
      mixin: () => activeTraceIds() ?? {},
    },
    options.destination ?? pino.destination(2),
  );
}

/** A logger that drops everything; for unit tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

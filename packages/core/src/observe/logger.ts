import * as z from 'zod';

/**
 * Where imbot writes what it does: a pino-compatible logger (pino, or any object with these four
 * methods taking fields and a message). Fields never hold a secret: no secret key, UserSig, App
 * Secret or callback token is ever passed.
 */
export interface Logger {
  debug(fields: object, message?: string): void;
  info(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
  error(fields: object, message?: string): void;
}

/** The default logger: says nothing. */
export const silentLogger: Logger = Object.freeze({
  debug() {},
  info() {},
  warn() {},
  error() {},
});

/** The `logger` option of every client, middleware and adapter. */
export const loggerOption = z.custom<Logger>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    ['debug', 'info', 'warn', 'error'].every(
      (level) => typeof (value as Record<string, unknown>)[level] === 'function',
    ),
  { message: 'logger needs debug, info, warn and error methods (a pino logger, or console)' },
);

/** Whether `logger` would write at debug level: pino's `isLevelEnabled`, else true unless silent. */
export function logsDebug(logger: Logger): boolean {
  if (logger === silentLogger) return false;
  const check = (logger as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled;
  return typeof check === 'function' ? check.call(logger, 'debug') : true;
}

/**
 * The logger a receiver falls back on when it was given neither a logger nor `onError`, so that a
 * failure is never silent: warnings and errors on the console as `[imbot]` and the error (whose
 * message holds no secret), nothing below.
 */
export const consoleLogger: Logger = Object.freeze({
  debug() {},
  info() {},
  warn: toConsole,
  error: toConsole,
});

function toConsole(fields: object, message?: string): void {
  console.error('[imbot]', (fields as { err?: unknown }).err ?? message ?? fields);
}

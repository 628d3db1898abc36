import * as z from 'zod';
import { loggerOption } from '../observe/logger.js';
import { meterOption } from '../observe/telemetry.js';

/**
 * The options every cloud client takes for its HTTP calls and streams: deadline, retries, rate
 * limit, sockets, stream journal, logger and metrics.
 * Spread into each client's own options schema.
 */
export const transportOptionsShape = {
  timeoutMs: z.number().int().positive().optional(),
  retry: z
    .object({
      retries: z.number().int().min(0),
      minDelayMs: z.number().min(0),
      maxDelayMs: z.number().min(0),
    })
    .partial()
    .optional(),
  /** A `RateLimiter` (an object with `acquire(key)`) or `false`; the client knows its default. */
  rateLimit: z
    .custom<false | { acquire: unknown }>(
      (value) =>
        value === false ||
        (typeof value === 'object' &&
          value !== null &&
          typeof (value as { acquire?: unknown }).acquire === 'function'),
      'must be a RateLimiter (an object with acquire(key)) or false; leave it out for the default',
    )
    .optional(),
  connections: z.number().int().positive().optional(),
  /** The app's plan over the cloud's rate table: limits by row name, checked by the client. */
  limits: z.record(z.string(), z.unknown()).optional(),
  /** `'undici'` or `'fetch'`; left out, the runtime decides. */
  transport: z.enum(['undici', 'fetch']).optional(),
  /** A `StreamJournal`, so that another process closes the messages a dead one left open. */
  journal: z
    .custom<{ record: unknown }>(
      (value) =>
        typeof value === 'object' &&
        value !== null &&
        ['record', 'forget', 'abandon', 'attach'].every(
          (name) => typeof (value as Record<string, unknown>)[name] === 'function',
        ),
      'must be a StreamJournal (record, forget, abandon, attach), such as new RedisStreamJournal(…)',
    )
    .optional(),
  logger: loggerOption.optional(),
  meter: meterOption.optional(),
};

import { z } from 'zod';

/**
 * The options every cloud client takes for its HTTP calls: deadline, retries, rate limit, sockets.
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
  /** A `RateLimiter` or `false`; checked by the client, which knows its default. */
  rateLimit: z.unknown().optional(),
  connections: z.number().int().positive().optional(),
};

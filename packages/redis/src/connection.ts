import { ValidationError } from '@imbot/core';
import { parseInput } from '@imbot/core/internal';
import { Redis } from 'ioredis';
import * as z from 'zod';

/** How to reach Redis: a URL (`redis://host:6379/0`), or a client the app already has. */
export type RedisConnection = { url: string; client?: undefined } | { client: Redis; url?: undefined };

/** What every imbot Redis class takes: the connection, and the prefix of every key it writes. */
export type RedisOptions = RedisConnection & {
  /** Prefix of every key written; give each app its own to serve many from one Redis. Default `imbot`. */
  prefix?: string;
};

/** The options every imbot Redis class takes. */
export const connectionShape = {
  url: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
    .optional(),
  client: z.custom<Redis>((v) => v instanceof Redis, 'must be an ioredis client').optional(),
  prefix: z
    .string()
    .min(1, 'must not be empty')
    .regex(/^[^\s]+$/, 'must have no spaces')
    .optional(),
};

/** Checks `options` against `schema`, then that exactly one of `url` and `client` is given. */
function parseConnection<S extends z.ZodType>(schema: S, options: unknown, what: string): z.output<S> {
  const parsed = parseInput(schema, options, what) as { url?: string; client?: Redis };
  if ((parsed.url === undefined) === (parsed.client === undefined))
    throw new ValidationError(
      `${what}.url`,
      `${what}.url: give either url or client, not both and not neither`,
    );
  return parsed as z.output<S>;
}

/**
 * A client for imbot's own use. One made from a URL fails fast while Redis is away (no offline queue,
 * no retries per command, a 1 s command deadline) so that callers can fall back at once, and keeps
 * reconnecting in the background; a given client is used as it is and never closed by imbot.
 */
function openClient(connection: RedisConnection): { client: Redis; owned: boolean } {
  if (connection.client) return { client: connection.client, owned: false };
  const client = new Redis(connection.url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: 1000,
    retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
  });
  // Connection errors are expected while Redis is away; callers see them on their commands.
  client.on('error', () => undefined);
  return { client, owned: true };
}

/**
 * Resolves once `client` is ready, or after 2 s: its commands then fail fast and the caller falls
 * back. Waiting first keeps a process that has just started from falling back for nothing.
 */
function connected(client: Redis): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      client.off('ready', done);
      resolve();
    };
    const timer = setTimeout(done, 2000);
    client.once('ready', done);
  });
}

/** A Lua script to define on the client: how many of its arguments are keys, and its source. */
export interface Script {
  keys: number;
  lua: string;
}

/**
 * Checks `options` against `schema` (a `ValidationError` names what is wrong), opens or takes the
 * client, defines `scripts` on it as commands, and starts waiting for it to be ready.
 */
export function connect<Commands>(
  schema: z.ZodType,
  options: RedisOptions,
  scripts: Record<string, Script>,
): { client: Redis & Commands; owned: boolean; connected: Promise<void>; prefix: string } {
  parseConnection(schema, options, 'options');
  const { client, owned } = openClient(options);
  for (const [name, script] of Object.entries(scripts))
    client.defineCommand(name, { numberOfKeys: script.keys, lua: script.lua });
  return {
    client: client as Redis & Commands,
    owned,
    connected: connected(client),
    prefix: options.prefix ?? 'imbot',
  };
}

import { ValidationError } from '@imbot/core';
import { parseInput } from '@imbot/core/internal';
import { Cluster, Redis } from 'ioredis';
import * as z from 'zod';

/** A client imbot can use: an ioredis `Redis` (one server, or Sentinel) or `Cluster`. */
export type RedisClient = Redis | Cluster;

/**
 * How to reach Redis: a URL (`redis://host:6379/0`), a Redis Cluster's seed nodes
 * (`['redis://10.0.0.1:6379', …]`), or a client the app already has (an ioredis `Redis`, which
 * also covers Sentinel through its own `sentinels` option, or an ioredis `Cluster`).
 */
export type RedisConnection =
  | { url: string; nodes?: undefined; client?: undefined }
  | { nodes: string[]; url?: undefined; client?: undefined }
  | { client: RedisClient; url?: undefined; nodes?: undefined };

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
  nodes: z
    .array(z.string().regex(/^rediss?:\/\/[^/]+$/, 'must be redis://host:port URLs'))
    .min(1, 'must name at least one node')
    .optional(),
  client: z
    .custom<RedisClient>(
      (v) => v instanceof Redis || v instanceof Cluster,
      'must be an ioredis Redis or Cluster client',
    )
    .optional(),
  prefix: z
    .string()
    .min(1, 'must not be empty')
    .regex(/^[^\s]+$/, 'must have no spaces')
    .optional(),
};

/** Checks `options` against `schema`, then that exactly one of `url`, `nodes` and `client` is given. */
function parseConnection<S extends z.ZodType>(schema: S, options: unknown, what: string): z.output<S> {
  const parsed = parseInput(schema, options, what) as { url?: string; nodes?: string[]; client?: unknown };
  const given = [parsed.url, parsed.nodes, parsed.client].filter((v) => v !== undefined).length;
  if (given !== 1)
    throw new ValidationError(
      `${what}.url`,
      `${what}.url: give one of url, nodes (a cluster) or client, not ${given === 0 ? 'none' : 'several'}`,
    );
  return parsed as z.output<S>;
}

/** What imbot's own clients do while Redis is away: fail fast, keep reconnecting in the background. */
const FAIL_FAST = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  commandTimeout: 1000,
  retryStrategy: (attempt: number) => Math.min(attempt * 100, 1000),
};

/**
 * A client for imbot's own use. One made from a URL fails fast while Redis is away (no offline queue,
 * no retries per command, a 1 s command deadline) so that callers can fall back at once, and keeps
 * reconnecting in the background; a given client is used as it is and never closed by imbot.
 */
function openClient(connection: RedisConnection): { client: RedisClient; owned: boolean } {
  if (connection.client) return { client: connection.client, owned: false };
  const client: RedisClient = connection.nodes
    ? new Cluster(
        connection.nodes.map((node) => {
          const { hostname, port } = new URL(node);
          return { host: hostname, port: Number(port) || 6379 };
        }),
        {
          enableOfflineQueue: false,
          clusterRetryStrategy: FAIL_FAST.retryStrategy,
          // A node's connection queues commands while it connects (it is opened on first use): only
          // the cluster as a whole fails fast, or the first command to each node would fail.
          redisOptions: {
            maxRetriesPerRequest: FAIL_FAST.maxRetriesPerRequest,
            commandTimeout: FAIL_FAST.commandTimeout,
            ...tlsOf(connection.nodes[0] as string),
          },
        },
      )
    : new Redis(connection.url, FAIL_FAST);
  // Connection errors are expected while Redis is away; callers see them on their commands.
  client.on('error', () => undefined);
  return { client, owned: true };
}

/** A second connection like `client` (for blocking reads, which hold their connection). */
export function duplicate(client: RedisClient): RedisClient {
  return client instanceof Cluster ? client.duplicate() : client.duplicate();
}

/** TLS for a cluster whose nodes are `rediss://`, as ioredis does for a `rediss://` URL. */
function tlsOf(node: string): { tls?: object } {
  return node.startsWith('rediss://') ? { tls: {} } : {};
}

/**
 * Resolves once `client` is ready, or after 2 s: its commands then fail fast and the caller falls
 * back. Waiting first keeps a process that has just started from falling back for nothing.
 */
function connected(client: RedisClient): Promise<void> {
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
  /** Omitted for a script whose keys vary: its command then takes their number first. */
  keys?: number;
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
): { client: RedisClient & Commands; owned: boolean; connected: Promise<void>; prefix: string } {
  parseConnection(schema, options, 'options');
  const { client, owned } = openClient(options);
  for (const [name, script] of Object.entries(scripts))
    client.defineCommand(
      name,
      script.keys === undefined ? { lua: script.lua } : { numberOfKeys: script.keys, lua: script.lua },
    );
  return {
    client: client as RedisClient & Commands,
    owned,
    connected: connected(client),
    prefix: options.prefix ?? 'imbot',
  };
}

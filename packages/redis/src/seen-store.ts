import { createHash } from 'node:crypto';
import { MemorySeenStore, type SeenStore } from '@imbot/core';
import * as z from 'zod';
import { connect, connectionShape, type RedisClient, type RedisOptions } from './connection.js';

export type RedisSeenStoreOptions = RedisOptions;

const options = z.strictObject(connectionShape);

/**
 * A `SeenStore` on Redis, for webhook receivers running as several replicas: a callback redelivered
 * to another replica, or a RongCloud nonce replayed to it, is refused there too. One `SET NX PX` per
 * key, keyed by the key's SHA-1 so that any key costs the same. While Redis cannot be reached, each
 * process remembers in its own memory (a redelivery to the same replica is still caught) and goes
 * back to Redis as soon as it answers: receiving never stops because Redis did.
 *
 * @example
 * const seen = new RedisSeenStore({ url: process.env.REDIS_URL });
 * app.use('/im', imbot({ platform, bots, onMessage, seen }));
 */
export class RedisSeenStore implements SeenStore {
  readonly #client: RedisClient;
  readonly #owned: boolean;
  readonly #prefix: string;
  readonly #fallback = new MemorySeenStore();
  readonly #connected: Promise<void>;

  constructor(options_: RedisSeenStoreOptions) {
    const { client, owned, connected, prefix } = connect(options, options_, {});
    this.#client = client;
    this.#owned = owned;
    this.#connected = connected;
    this.#prefix = `${prefix}:seen:`;
  }

  async remember(key: string, ttlMs: number): Promise<boolean> {
    const digest = createHash('sha1').update(key).digest('base64url');
    await this.#connected;
    try {
      const set = await this.#client.set(
        this.#prefix + digest,
        '1',
        'PX',
        Math.max(1, Math.ceil(ttlMs)),
        'NX',
      );
      return set === 'OK';
    } catch {
      return this.#fallback.remember(key, ttlMs);
    }
  }

  /** Closes the connection the store opened (a client given to it is left open). */
  async close(): Promise<void> {
    if (this.#owned) this.#client.disconnect();
  }
}

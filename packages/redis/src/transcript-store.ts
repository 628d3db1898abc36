import { ImbotError, type TranscriptEntry, type TranscriptStore } from '@imbot/core';
import * as z from 'zod';
import { connect, connectionShape, type RedisClient, type RedisOptions } from './connection.js';

export type RedisTranscriptStoreOptions = RedisOptions & {
  /** Messages kept per conversation; the oldest go first. Default 200. */
  maxMessages?: number;
  /** How long a conversation nobody writes to is kept. Default 30 days. */
  ttlMs?: number;
};

const options = z.strictObject({
  ...connectionShape,
  maxMessages: z.number().int().min(1).max(10_000).optional(),
  ttlMs: z.number().int().min(1000).optional(),
});

const DEFAULT_TTL_MS = 30 * 24 * 60 * 60_000;

/**
 * A `TranscriptStore` on Redis, so that every replica reads the same conversations for
 * `reply.history()` (and the Chat SDK adapter's `fetchMessages` where the cloud keeps no history),
 * across restarts. One list per conversation, trimmed to `maxMessages` and kept `ttlMs` after its
 * last write, each in one `MULTI` (`RPUSH`, `LTRIM`, `PEXPIRE`); the key's hash tag is the
 * conversation, so a Redis Cluster works. While Redis is away, writes and reads fail with
 * `TRANSCRIPT_UNAVAILABLE` (a receiver reports a failed write and answers all the same).
 *
 * @example
 * const transcript = new RedisTranscriptStore({ url: process.env.REDIS_URL });
 * app.use('/im', imbot({ platform: rong.platform, bots, onMessage, transcript }));
 */
export class RedisTranscriptStore implements TranscriptStore {
  readonly #client: RedisClient;
  readonly #owned: boolean;
  readonly #prefix: string;
  readonly #connected: Promise<void>;
  readonly #maxMessages: number;
  readonly #ttlMs: number;

  constructor(options_: RedisTranscriptStoreOptions) {
    const { client, owned, connected, prefix } = connect(options, options_, {});
    this.#client = client;
    this.#owned = owned;
    this.#connected = connected;
    this.#prefix = `${prefix}:transcript:`;
    this.#maxMessages = options_.maxMessages ?? 200;
    this.#ttlMs = options_.ttlMs ?? DEFAULT_TTL_MS;
  }

  async append(conversation: string, entry: TranscriptEntry): Promise<void> {
    const key = this.#key(conversation);
    await this.#connected;
    try {
      await this.#client
        .multi()
        .rpush(key, JSON.stringify(entry))
        .ltrim(key, -this.#maxMessages, -1)
        .pexpire(key, this.#ttlMs)
        .exec();
    } catch (error) {
      throw unavailable(error);
    }
  }

  async read(conversation: string, limit: number): Promise<TranscriptEntry[]> {
    await this.#connected;
    let kept: string[];
    try {
      kept = await this.#client.lrange(this.#key(conversation), -Math.max(1, limit), -1);
    } catch (error) {
      throw unavailable(error);
    }
    return kept.map((json) => JSON.parse(json) as TranscriptEntry);
  }

  /** Closes the connection the store opened (a client given to it is left open). */
  async close(): Promise<void> {
    if (this.#owned) this.#client.disconnect();
  }

  /** The conversation's list, its name the hash tag (its keys stay on one cluster node). */
  #key(conversation: string): string {
    return `${this.#prefix}{${conversation}}`;
  }
}

function unavailable(error: unknown): ImbotError {
  return new ImbotError('TRANSCRIPT_UNAVAILABLE', 'the transcript could not be reached in Redis', {
    cause: error,
  });
}

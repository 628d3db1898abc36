import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ImbotError } from '@imbot/core';
import { ROUTE_KEEP_MS, type RoutedMessage, type RouteQuery, type RouteStore } from '@imbot/core/rongcloud';
import * as z from 'zod';
import { connect, connectionShape, type RedisClient, type RedisOptions } from './connection.js';

export type RedisRouteStoreOptions = RedisOptions;

const options = z.strictObject(connectionShape);

/** The first look again after this, then twice as long each time, up to a second. */
const FIRST_POLL_MS = 50;
const MAX_POLL_MS = 1000;

/**
 * A RongCloud `RouteStore` on Redis, given to every replica's client as `routes`: a message that
 * full message routing posted to any replica is found by the stream that waits for it on another,
 * and by a survivor taking over a dead process's opening call from the journal. Per conversation,
 * a sorted set of routed stream messages (by time) and a set of the messages streams claimed, both
 * under one hash tag and kept two minutes. A waiting read-back looks again after 50 ms, then twice as
 * long each time, up to a second. While Redis cannot be reached, `record` fails (the receiver answers
 * 500, so the cloud may deliver the route again) and so does a read-back (the session falls back as
 * without routing).
 *
 * @example
 * const routes = new RedisRouteStore({ url: process.env.REDIS_URL });
 * const rong = new RongCloud({ appKey, appSecret, region: 'singapore', messageRouting: true, routes });
 */
export class RedisRouteStore implements RouteStore {
  readonly #client: RedisClient;
  readonly #owned: boolean;
  readonly #prefix: string;
  readonly #connected: Promise<void>;

  constructor(options_: RedisRouteStoreOptions) {
    const { client, owned, connected, prefix } = connect(options, options_, {});
    this.#client = client;
    this.#owned = owned;
    this.#connected = connected;
    this.#prefix = `${prefix}:routes:`;
  }

  async record(message: RoutedMessage): Promise<void> {
    if (message.objectName !== 'RC:StreamMsg') return;
    const { messages } = this.#keys(message);
    await this.#exec(
      this.#client
        .multi()
        .zadd(messages, message.time, JSON.stringify(message))
        .zremrangebyscore(messages, '-inf', Date.now() - ROUTE_KEEP_MS)
        .pexpire(messages, ROUTE_KEEP_MS),
    );
  }

  async find(
    where: RouteQuery,
    accept: (message: RoutedMessage) => boolean,
    waitMs: number,
    signal?: AbortSignal,
  ): Promise<RoutedMessage[]> {
    const deadline = Date.now() + waitMs;
    let pause = FIRST_POLL_MS;
    for (;;) {
      const found = await this.#read(where, accept);
      const left = deadline - Date.now();
      if (found.length > 0 || left <= 0 || signal?.aborted) return found;
      // Aborted while it pauses: the next read is the last.
      await sleep(Math.min(pause, left), undefined, signal ? { signal } : undefined).catch(() => undefined);
      pause = Math.min(pause * 2, MAX_POLL_MS);
    }
  }

  async claim(where: Omit<RouteQuery, 'since'>, msgUID: string): Promise<void> {
    const { claimed } = this.#keys(where);
    await this.#exec(this.#client.multi().sadd(claimed, msgUID).pexpire(claimed, ROUTE_KEEP_MS));
  }

  /** Closes the connection the store opened (a client given to it is left open). */
  async close(): Promise<void> {
    if (this.#owned) this.#client.disconnect();
  }

  async #read(where: RouteQuery, accept: (message: RoutedMessage) => boolean): Promise<RoutedMessage[]> {
    const keys = this.#keys(where);
    const [members, claimed] = (await this.#exec(
      this.#client.multi().zrangebyscore(keys.messages, where.since, '+inf').smembers(keys.claimed),
    )) as [string[], string[]];
    const taken = new Set(claimed);
    return members
      .map((member) => JSON.parse(member) as RoutedMessage)
      .filter((m) => m.from === where.from && m.to === where.to && !taken.has(m.msgUID) && accept(m));
  }

  /** A conversation's two keys, under one hash tag so that a transaction over both is one slot's. */
  #keys(where: { from: string; to: string }): { messages: string; claimed: string } {
    const tag = createHash('sha1').update(`${where.from}\u0000${where.to}`).digest('base64url').slice(0, 16);
    return { messages: `${this.#prefix}{${tag}}:messages`, claimed: `${this.#prefix}{${tag}}:claimed` };
  }

  /** Runs a transaction; Redis away or a failed command fails it with `ROUTES_UNAVAILABLE`. */
  async #exec(multi: ReturnType<RedisClient['multi']>): Promise<unknown[]> {
    await this.#connected;
    const results = await multi.exec().catch((error: Error) => {
      throw new ImbotError('ROUTES_UNAVAILABLE', `Redis cannot be reached: ${error.message}`, {
        cause: error,
      });
    });
    if (!results) throw new ImbotError('ROUTES_UNAVAILABLE', 'the routed messages transaction was aborted');
    return results.map(([error, value]) => {
      if (error)
        throw new ImbotError('ROUTES_UNAVAILABLE', `Redis refused: ${error.message}`, { cause: error });
      return value;
    });
  }
}

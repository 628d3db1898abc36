import { randomUUID } from 'node:crypto';
import type { StopChannel, StopRequest } from '@imbot/core';
import * as z from 'zod';
import { connect, connectionShape, duplicate, type RedisClient, type RedisOptions } from './connection.js';

export type RedisStopChannelOptions = RedisOptions;

const options = z.strictObject(connectionShape);

/** Stops kept in the stream for replicas that were away: far more than arrive while one reconnects. */
const KEPT = 10_000;
/** How long one blocking read waits for a stop before it asks again. */
const BLOCK_MS = 1000;
/** The wait before reading again after Redis failed a read, doubling up to a second. */
const RETRY_MS = 50;

type Entry = [id: string, fields: string[]];

/**
 * A `StopChannel` on Redis, the receivers' `stops` option: a stop received by any replica reaches the
 * replica running the answer it stops. A stop is appended to one Redis Stream (`XADD`, the latest
 * 10,000 kept) and every channel reads the stream from where it last read (`XREAD BLOCK`) on a
 * connection of its own. A stream rather than pub/sub, because a replica briefly cut off from Redis
 * reads what it missed when it is back, where pub/sub would have dropped it; the stop then applies
 * to an answer still running that started before the stop. One key, so a Redis Cluster works.
 *
 * @example
 * const stops = new RedisStopChannel({ url: process.env.REDIS_URL });
 * app.use('/im', imbot({ platform, bots, onMessage, stops }));
 */
export class RedisStopChannel implements StopChannel {
  /** This channel's name among the replicas: it reads past the stops it published itself. */
  readonly channelId = randomUUID();
  readonly #client: RedisClient;
  readonly #reader: RedisClient;
  readonly #owned: boolean;
  readonly #key: string;
  readonly #connected: Promise<void>;
  readonly #subscribers = new Set<(stop: StopRequest) => void>();
  #reading: Promise<void> | undefined;
  #closed = false;

  constructor(options_: RedisStopChannelOptions) {
    const { client, owned, connected, prefix } = connect(options, options_, {});
    this.#client = client;
    this.#owned = owned;
    this.#connected = connected;
    this.#key = `${prefix}:stops`;
    // A blocking read holds its connection: it gets one of its own.
    this.#reader = duplicate(client);
    this.#reader.on('error', () => undefined);
  }

  async publish(stop: StopRequest): Promise<void> {
    await this.#connected;
    await this.#client.xadd(
      this.#key,
      'MAXLEN',
      '~',
      KEPT,
      '*',
      'origin',
      this.channelId,
      'stop',
      JSON.stringify(stop),
    );
  }

  subscribe(deliver: (stop: StopRequest) => void): () => void {
    this.#subscribers.add(deliver);
    this.#reading ??= this.#read();
    return () => this.#subscribers.delete(deliver);
  }

  /** Stops reading and closes the connections the channel opened (a client given to it stays open). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#reader.disconnect();
    await this.#reading;
    if (this.#owned) this.#client.disconnect();
  }

  /** Reads the stream from its end at the start, then from the last stop read, through every outage. */
  async #read(): Promise<void> {
    await this.#connected;
    let last: string | undefined;
    let retry = RETRY_MS;
    while (!this.#closed) {
      try {
        last ??= await this.#end();
        const read = (await this.#reader.xread(
          'COUNT',
          100,
          'BLOCK',
          BLOCK_MS,
          'STREAMS',
          this.#key,
          last,
        )) as [string, Entry[]][] | null;
        for (const [id, fields] of read?.[0]?.[1] ?? []) {
          last = id;
          this.#deliver(fields);
        }
        retry = RETRY_MS;
      } catch {
        if (this.#closed) return;
        await new Promise((resolve) => setTimeout(resolve, retry));
        retry = Math.min(retry * 2, 1000);
      }
    }
  }

  /** The id of the newest stop in the stream: reading starts after it. */
  async #end(): Promise<string> {
    const newest = (await this.#reader.xrevrange(this.#key, '+', '-', 'COUNT', 1)) as Entry[];
    return newest[0]?.[0] ?? '0-0';
  }

  #deliver(fields: string[]): void {
    const value = (name: string) => fields[fields.indexOf(name) + 1];
    if (value('origin') === this.channelId) return;
    let stop: StopRequest;
    try {
      stop = JSON.parse(value('stop') ?? '') as StopRequest;
    } catch {
      return;
    }
    for (const deliver of this.#subscribers) deliver(stop);
  }
}

import { createHash, randomUUID } from 'node:crypto';
import type { InboundMessage, Inbox } from '@imbot/core';
import * as z from 'zod';
import { connect, connectionShape, duplicate, type RedisClient, type RedisOptions } from './connection.js';
import { RELEASE_SHARD, RENEW_SHARD, REPLICAS } from './scripts.js';

export type RedisInboxOptions = RedisOptions & {
  /** Streams the conversations are spread over; each is read by one replica at a time. Default 16. */
  shards?: number;
  /** How long a replica holds its shards without renewal: a dead one's work moves after it. Default 5 s. */
  leaseMs?: number;
};

const options = z.strictObject({
  ...connectionShape,
  shards: z.number().int().min(1).max(1024).optional(),
  leaseMs: z.number().int().min(200).optional(),
});

interface Commands {
  imbotReplicas(...args: (string | number)[]): Promise<string[]>;
  imbotRenewShard(...args: (string | number)[]): Promise<number>;
  imbotReleaseShard(...args: (string | number)[]): Promise<number>;
}

const GROUP = 'imbot';
/** Entries read at once from the owned shards. */
const READ_COUNT = 100;

type Entry = [id: string, fields: string[]];

/**
 * Durable inbound work on Redis Streams, as the webhook pipeline's `inbox`. Each accepted user message
 * is appended (`XADD`) to the stream of its conversation's shard before the cloud is answered. Every
 * replica holds a fair share of the shards under a renewed lease and reads them through a consumer
 * group: a message is acknowledged (`XACK`) once its handler has finished. When a replica dies its
 * leases run out, another takes its shards and claims (`XCLAIM`) the messages it had read and not
 * finished, so each is handled by another replica within about two leases. One shard is read by one
 * replica at a time, so a conversation's messages are handled in order.
 *
 * @example
 * const inbox = new RedisInbox({ url: process.env.REDIS_URL });
 * app.use('/im', imbot({ platform, bots, onMessage, seen: new RedisSeenStore({ url }), inbox }));
 */
export class RedisInbox implements Inbox {
  /** This replica's consumer name. */
  readonly replicaId = randomUUID();
  readonly #client: RedisClient & Commands;
  readonly #reader: RedisClient;
  readonly #owned: boolean;
  readonly #prefix: string;
  readonly #shards: number;
  readonly #leaseMs: number;
  readonly #mine = new Set<number>();
  /** Messages read and not yet handled, per shard. */
  readonly #inFlight = new Map<number, number>();
  readonly #connected: Promise<void>;
  #deliver: ((message: InboundMessage) => Promise<void>) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #reading: Promise<void> | undefined;

  constructor(options_: RedisInboxOptions) {
    const { client, owned, connected, prefix } = connect<Commands>(options, options_, {
      imbotReplicas: { keys: 1, lua: REPLICAS },
      imbotRenewShard: { keys: 1, lua: RENEW_SHARD },
      imbotReleaseShard: { keys: 1, lua: RELEASE_SHARD },
    });
    this.#client = client;
    this.#connected = connected;
    // Blocking reads get a connection of their own.
    this.#reader = duplicate(client);
    this.#reader.on('error', () => undefined);
    this.#owned = owned;
    this.#prefix = `${prefix}:inbox`;
    this.#shards = options_.shards ?? 16;
    this.#leaseMs = options_.leaseMs ?? 5000;
  }

  /** The shards this replica reads now. */
  get ownedShards(): number[] {
    return [...this.#mine].sort((a, b) => a - b);
  }

  async add(message: InboundMessage): Promise<void> {
    await this.#connected;
    await this.#client.xadd(this.#stream(this.#shardOf(message)), '*', 'm', JSON.stringify(message));
  }

  start(deliver: (message: InboundMessage) => Promise<void>): void {
    if (this.#running) return;
    this.#running = true;
    this.#deliver = deliver;
    this.#timer = setInterval(() => void this.#balance(), Math.floor(this.#leaseMs / 3));
    void this.#connected.then(() => this.#balance());
    this.#reading = this.#read();
  }

  async close(): Promise<void> {
    this.#running = false;
    clearInterval(this.#timer);
    await this.#reading;
    // Let others take the shards at once; what was read and not handled is claimed by them.
    await Promise.all([...this.#mine].map((shard) => this.#release(shard)));
    this.#reader.disconnect();
    if (this.#owned) this.#client.disconnect();
  }

  #stream(shard: number): string {
    return `{${this.#prefix}}:s${shard}`;
  }

  #ownerKey(shard: number): string {
    return `${this.#stream(shard)}:owner`;
  }

  /** A conversation's shard: its bot, its chat, its user. */
  #shardOf(message: InboundMessage): number {
    const where = message.conversation.type === 'group' ? message.conversation.groupId : '';
    const digest = createHash('sha1').update(`${message.botId}\u0000${where}\u0000${message.from}`).digest();
    return digest.readUInt32BE(0) % this.#shards;
  }

  /** Renews this replica's shards, takes free ones up to its fair share, and gives back extras. */
  async #balance(): Promise<void> {
    if (!this.#running) return;
    try {
      const replicas = await this.#client.imbotReplicas(
        `${this.#prefix}:replicas`,
        this.replicaId,
        this.#leaseMs,
      );
      for (const shard of this.#mine) {
        if (!(await this.#client.imbotRenewShard(this.#ownerKey(shard), this.replicaId, this.#leaseMs)))
          this.#mine.delete(shard);
      }
      const fair = Math.ceil(this.#shards / Math.max(1, replicas.length));
      for (const shard of [...this.#mine]) {
        if (this.#mine.size <= fair) break;
        if (!this.#inFlight.get(shard)) await this.#release(shard);
      }
      const start = Math.floor(Math.random() * this.#shards);
      for (let i = 0; i < this.#shards && this.#mine.size < fair; i++) {
        const shard = (start + i) % this.#shards;
        if (this.#mine.has(shard)) continue;
        const taken = await this.#client.set(
          this.#ownerKey(shard),
          this.replicaId,
          'PX',
          this.#leaseMs,
          'NX',
        );
        if (taken !== 'OK') continue;
        await this.#client
          .xgroup('CREATE', this.#stream(shard), GROUP, '0', 'MKSTREAM')
          .catch(() => undefined);
        this.#mine.add(shard);
      }
      const live = new Set(replicas);
      for (const shard of this.#mine) await this.#recover(shard, live);
    } catch {
      // Redis is away: the next round tries again; leases that run out move to other replicas.
    }
  }

  /** Claims what replicas no longer alive had read from `shard` and not finished, and handles it. */
  async #recover(shard: number, live: Set<string>): Promise<void> {
    const stream = this.#stream(shard);
    const pending = (await this.#client.xpending(stream, GROUP, '-', '+', 1000)) as [string, string][];
    const orphaned = pending.filter(([, consumer]) => !live.has(consumer));
    if (orphaned.length === 0) return;
    const ids = orphaned.map(([id]) => id);
    const claimed = (await this.#client.call('XCLAIM', stream, GROUP, this.replicaId, 0, ...ids)) as Entry[];
    this.#handle(shard, claimed);
  }

  /** Reads new messages from the owned shards, one blocking read at a time, until closed. */
  async #read(): Promise<void> {
    await this.#connected;
    while (this.#running) {
      const shards = [...this.#mine];
      if (shards.length === 0) {
        await sleep(100);
        continue;
      }
      try {
        const answer = (await this.#reader.xreadgroup(
          'GROUP',
          GROUP,
          this.replicaId,
          'COUNT',
          READ_COUNT,
          'BLOCK',
          200,
          'STREAMS',
          ...shards.map((s) => this.#stream(s)),
          ...shards.map(() => '>'),
        )) as [string, Entry[]][] | null;
        for (const [stream, entries] of answer ?? []) {
          this.#handle(shards[shards.findIndex((s) => this.#stream(s) === stream)] as number, entries);
        }
      } catch {
        await sleep(200);
      }
    }
  }

  /** Hands entries to the pipeline in order, acknowledging each once it is handled. */
  #handle(shard: number, entries: Entry[]): void {
    for (const [id, fields] of entries) {
      const json = fields[fields.indexOf('m') + 1];
      if (json === undefined) continue;
      const message = revive(json);
      this.#inFlight.set(shard, (this.#inFlight.get(shard) ?? 0) + 1);
      void (this.#deliver as (m: InboundMessage) => Promise<void>)(message).then(async () => {
        this.#inFlight.set(shard, (this.#inFlight.get(shard) ?? 1) - 1);
        const stream = this.#stream(shard);
        await this.#client
          .multi()
          .xack(stream, GROUP, id)
          .xdel(stream, id)
          .exec()
          .catch(() => undefined);
      });
    }
  }

  async #release(shard: number): Promise<void> {
    this.#mine.delete(shard);
    await this.#client.imbotReleaseShard(this.#ownerKey(shard), this.replicaId).catch(() => undefined);
  }
}

function revive(json: string): InboundMessage {
  const message = JSON.parse(json) as InboundMessage & { time: string };
  return { ...message, time: new Date(message.time) };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

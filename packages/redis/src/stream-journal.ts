import type { JournalEntry, OrphanCloser, StreamJournal } from '@imbot/core';
import * as z from 'zod';
import { connect, connectionShape, type RedisClient, type RedisOptions } from './connection.js';
import { CLAIM, RECORD, RENEW } from './scripts.js';

export type RedisStreamJournalOptions = RedisOptions & {
  /** How long a message stays its process's without renewal: a dead process's messages are closed after it. Default 10 s. */
  leaseMs?: number;
  /** What the closing call of an orphaned message shows at its end. Default `" …"`. */
  suffix?: string;
  /** Attempts at closing one orphaned message before it is forgotten. Default 5. */
  maxAttempts?: number;
};

const options = z.strictObject({
  ...connectionShape,
  leaseMs: z.number().int().min(100).optional(),
  suffix: z.string().min(1, 'must not be empty: the closing call needs a chunk').optional(),
  maxAttempts: z.number().int().positive().optional(),
});

interface Commands {
  imbotRecord(...args: (string | number)[]): Promise<number>;
  imbotRenew(...args: (string | number)[]): Promise<number>;
  imbotClaim(...args: (string | number)[]): Promise<(string | number)[]>;
}

/** Messages claimed per sweep, so that one sweep's work is bounded. */
const CLAIMS_PER_SWEEP = 50;

/**
 * A `StreamJournal` on Redis, passed to a client as `journal`: it records each open streamed message
 * (cloud, target, message id and sequence, never text) under its process's lease, renews the
 * leases while the process lives, and has every process sweep for leases that ran out and close
 * those messages with a closing call ending in `suffix`. A process killed mid-stream therefore leaves
 * no user with a message that never ends: another one closes it within about two leases.
 *
 * @example
 * const journal = new RedisStreamJournal({ url: process.env.REDIS_URL });
 * const im = new TencentIm({ ..., journal });
 */
export class RedisStreamJournal implements StreamJournal {
  readonly #client: RedisClient & Commands;
  readonly #owned: boolean;
  readonly #keys: { leases: string; entries: string; owners: string; attempts: string };
  readonly #owner = `${process.pid}-${Math.random().toString(36).slice(2)}`;
  readonly #leaseMs: number;
  readonly #suffix: string;
  readonly #maxAttempts: number;
  readonly #mine = new Set<string>();
  /** Records that did not reach Redis (it was away, or a cluster still starting): written again each tick. */
  readonly #unwritten = new Map<string, string>();
  readonly #closers = new Map<string, OrphanCloser>();
  readonly #timer: NodeJS.Timeout;
  readonly #connected: Promise<void>;
  #sweeping = false;
  /** Writes under way, which `close()` lets finish. */
  readonly #writes = new Set<Promise<unknown>>();

  constructor(options_: RedisStreamJournalOptions) {
    const { client, owned, connected, prefix } = connect<Commands>(options, options_, {
      imbotRecord: { keys: 3, lua: RECORD },
      imbotRenew: { keys: 2, lua: RENEW },
      imbotClaim: { keys: 4, lua: CLAIM },
    });
    this.#client = client;
    this.#owned = owned;
    this.#connected = connected;
    const base = `${prefix}:journal:{messages}`;
    this.#keys = {
      leases: `${base}:leases`,
      entries: `${base}:entries`,
      owners: `${base}:owners`,
      attempts: `${base}:attempts`,
    };
    this.#leaseMs = options_.leaseMs ?? 10_000;
    this.#suffix = options_.suffix ?? ' …';
    this.#maxAttempts = options_.maxAttempts ?? 5;
    this.#timer = setInterval(() => void this.#tick(), Math.max(50, Math.floor(this.#leaseMs / 3))).unref();
  }

  record(id: string, entry: JournalEntry): void {
    this.#mine.add(id);
    const json = JSON.stringify(entry);
    this.#unwritten.delete(id);
    this.#track(
      this.#connected
        .then(() => this.#write(id, json))
        .catch((error: unknown) => {
          // Unless the message moved on meanwhile, the next tick writes it: a record is never dropped.
          if (this.#mine.has(id) && !this.#unwritten.has(id)) this.#unwritten.set(id, json);
          throw error;
        }),
    );
  }

  #write(id: string, json: string): Promise<unknown> {
    const { leases, entries, owners } = this.#keys;
    return this.#client.imbotRecord(leases, entries, owners, id, json, this.#owner, this.#leaseMs);
  }

  forget(id: string): void {
    this.#mine.delete(id);
    this.#unwritten.delete(id);
    const { leases, entries, owners, attempts } = this.#keys;
    // Behind the same wait as `record`, so that a record made just before is not written after this.
    this.#track(
      this.#connected.then(() =>
        this.#client.multi().zrem(leases, id).hdel(entries, id).hdel(owners, id).hdel(attempts, id).exec(),
      ),
    );
  }

  /** Resolves once the records and forgets under way have reached Redis (or failed to). */
  async settled(): Promise<void> {
    await Promise.all(this.#writes);
  }

  /** Keeps `write` until it settles (Redis being away is not an error here: leases settle it). */
  #track(write: Promise<unknown>): void {
    const settled = write.catch(() => undefined).finally(() => this.#writes.delete(settled));
    this.#writes.add(settled);
  }

  /** Stops renewing `id`: its lease runs out and a sweep closes it like any orphan. */
  abandon(id: string): void {
    this.#mine.delete(id);
    this.#unwritten.delete(id);
  }

  attach(cloud: string, close: OrphanCloser): void {
    this.#closers.set(cloud, close);
  }

  /**
   * Stops renewing and sweeping (this process's leases then run out) once the writes under way have
   * reached Redis, and closes its connection.
   */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.settled();
    if (this.#owned) this.#client.disconnect();
  }

  async #tick(): Promise<void> {
    const { leases, owners } = this.#keys;
    for (const [id, json] of this.#unwritten) {
      try {
        await this.#write(id, json);
        if (this.#unwritten.get(id) === json) this.#unwritten.delete(id);
      } catch {
        break;
      }
    }
    if (this.#mine.size > 0)
      await this.#client
        .imbotRenew(leases, owners, this.#owner, this.#leaseMs, ...this.#mine)
        .catch(() => undefined);
    await this.#sweep();
  }

  /** Claims messages whose lease ran out, and closes those of a cloud this process has a client for. */
  async #sweep(): Promise<void> {
    if (this.#sweeping || this.#closers.size === 0) return;
    this.#sweeping = true;
    try {
      const { leases, entries, owners, attempts } = this.#keys;
      const claimed = await this.#client.imbotClaim(
        leases,
        entries,
        owners,
        attempts,
        this.#owner,
        this.#leaseMs,
        CLAIMS_PER_SWEEP,
      );
      const work: Promise<void>[] = [];
      for (let i = 0; i < claimed.length; i += 3) {
        const id = String(claimed[i]);
        const json = String(claimed[i + 1]);
        const tries = Number(claimed[i + 2]);
        work.push(this.#closeOrphan(id, json, tries));
      }
      await Promise.all(work);
    } catch {
      // Redis is away: the next sweep tries again.
    } finally {
      this.#sweeping = false;
    }
  }

  async #closeOrphan(id: string, json: string, tries: number): Promise<void> {
    let entry: JournalEntry;
    try {
      entry = JSON.parse(json) as JournalEntry;
    } catch {
      return this.forget(id);
    }
    const close = this.#closers.get(entry.cloud);
    // Another app's message: left for a process that has its client (the claim lapses again).
    if (!close) return;
    try {
      await close(entry, this.#suffix);
      this.forget(id);
    } catch {
      // The cloud may have ended it already; try a few times, then let it go.
      if (tries >= this.#maxAttempts) this.forget(id);
    }
  }
}

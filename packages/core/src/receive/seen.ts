import { createHash } from 'node:crypto';
import { Queue } from '../queue.js';

/**
 * Remembers keys for a while, so that the same webhook delivery (a redelivered message, a replayed
 * RongCloud nonce) is handled once. Every receiving process of a bot may share one store, such as a
 * Redis-backed one, so a redelivery is refused whichever process gets it.
 */
export interface SeenStore {
  /**
   * Records `key` for `ttlMs` milliseconds. Resolves `true` the first time (the caller goes on),
   * `false` while the key is still remembered (a repeat). A store may answer synchronously.
   */
  remember(key: string, ttlMs: number): boolean | Promise<boolean>;
  /** Forgets `key`, so that a delivery refused after it was remembered can come again. */
  forget?(key: string): void | Promise<void>;
}

export interface MemorySeenStoreOptions {
  /** Most keys held; past it the oldest are forgotten first. Default 1,000,000. */
  maxKeys?: number;
  /** Clock in milliseconds; injectable for tests. */
  now?: () => number;
}

interface Entry {
  digest: string;
  /** When it expires, in ms since the store was made: a small integer, held unboxed. */
  expires: number;
}

/**
 * A `SeenStore` in this process's memory. Every operation is O(1) amortised, whatever the number of
 * keys: entries with the same time-to-live expire in the order they came, so each lifetime keeps its
 * own FIFO and expiry only looks at the heads; nothing is ever scanned. Keys are held as SHA-1
 * digests (27 characters) whatever their length, about 150 bytes a key in all.
 */
export class MemorySeenStore implements SeenStore {
  /** Digest → when it expires. */
  readonly #expiry = new Map<string, number>();
  /** One FIFO per distinct time-to-live, oldest first. */
  readonly #byTtl = new Map<number, Queue<Entry>>();
  readonly #maxKeys: number;
  readonly #now: () => number;
  readonly #origin: number;

  constructor(options: MemorySeenStoreOptions = {}) {
    this.#maxKeys = options.maxKeys ?? 1_000_000;
    this.#now = options.now ?? Date.now;
    this.#origin = this.#now();
  }

  /** Keys held now, expired ones not yet swept included. */
  get size(): number {
    return this.#expiry.size;
  }

  remember(key: string, ttlMs: number): boolean {
    const now = this.#now() - this.#origin;
    this.#sweep(now);
    const digest = createHash('sha1').update(key).digest('base64url');
    const expires = this.#expiry.get(digest);
    if (expires !== undefined && expires > now) return false;
    const entry = { digest, expires: now + ttlMs };
    this.#expiry.set(digest, entry.expires);
    let line = this.#byTtl.get(ttlMs);
    if (!line) {
      line = new Queue<Entry>();
      this.#byTtl.set(ttlMs, line);
    }
    line.push(entry);
    while (this.#expiry.size > this.#maxKeys) this.#forgetOldest();
    return true;
  }

  forget(key: string): void {
    this.#expiry.delete(createHash('sha1').update(key).digest('base64url'));
  }

  /** Drops the expired heads of every lifetime's FIFO. */
  #sweep(now: number): void {
    for (const [ttl, line] of this.#byTtl) {
      for (let head = line.peek(); head && head.expires <= now; head = line.peek()) {
        line.shift();
        this.#forget(head);
      }
      if (line.size === 0) this.#byTtl.delete(ttl);
    }
  }

  /** Forgets the entry remembered first: the head that was added earliest of all the FIFOs. */
  #forgetOldest(): void {
    let oldest: [number, Queue<Entry>] | undefined;
    for (const [ttl, line] of this.#byTtl) {
      const head = line.peek() as Entry;
      if (!oldest || head.expires - ttl < (oldest[1].peek() as Entry).expires - oldest[0])
        oldest = [ttl, line];
    }
    const [ttl, line] = oldest as [number, Queue<Entry>];
    this.#forget(line.shift() as Entry);
    if (line.size === 0) this.#byTtl.delete(ttl);
  }

  /** Forgets `entry` unless its key was remembered again since (a newer entry owns it then). */
  #forget(entry: Entry): void {
    if (this.#expiry.get(entry.digest) === entry.expires) this.#expiry.delete(entry.digest);
  }
}

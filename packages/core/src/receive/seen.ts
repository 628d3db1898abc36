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
}

export interface MemorySeenStoreOptions {
  /** Most keys held; past it the oldest are forgotten first. Default 1,000,000. */
  maxKeys?: number;
  /** Clock in milliseconds; injectable for tests. */
  now?: () => number;
}

interface Entry {
  key: string;
  expires: number;
}

/**
 * A `SeenStore` in this process's memory. Every operation is O(1) amortised, whatever the number of
 * keys: entries with the same time-to-live expire in the order they came, so each lifetime keeps its
 * own FIFO and expiry only looks at the heads; nothing is ever scanned.
 */
export class MemorySeenStore implements SeenStore {
  /** Key → when it expires. */
  readonly #expiry = new Map<string, number>();
  /** One FIFO per distinct time-to-live, oldest first. */
  readonly #byTtl = new Map<number, Queue<Entry>>();
  /** Every entry in arrival order, to forget the oldest when over `maxKeys`. */
  readonly #arrivals = new Queue<Entry>();
  readonly #maxKeys: number;
  readonly #now: () => number;

  constructor(options: MemorySeenStoreOptions = {}) {
    this.#maxKeys = options.maxKeys ?? 1_000_000;
    this.#now = options.now ?? Date.now;
  }

  /** Keys held now, expired ones not yet swept included. */
  get size(): number {
    return this.#expiry.size;
  }

  remember(key: string, ttlMs: number): boolean {
    const now = this.#now();
    this.#sweep(now);
    const expires = this.#expiry.get(key);
    if (expires !== undefined && expires > now) return false;
    const entry = { key, expires: now + ttlMs };
    this.#expiry.set(key, entry.expires);
    let line = this.#byTtl.get(ttlMs);
    if (!line) {
      line = new Queue<Entry>();
      this.#byTtl.set(ttlMs, line);
    }
    line.push(entry);
    this.#arrivals.push(entry);
    while (this.#expiry.size > this.#maxKeys) this.#forget(this.#arrivals.shift() as Entry);
    return true;
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
    for (let head = this.#arrivals.peek(); head && !this.#holds(head); head = this.#arrivals.peek())
      this.#arrivals.shift();
  }

  #holds(entry: Entry): boolean {
    return this.#expiry.get(entry.key) === entry.expires;
  }

  /** Forgets `entry` unless the key was remembered again since (a newer entry owns it then). */
  #forget(entry: Entry): void {
    if (this.#holds(entry)) this.#expiry.delete(entry.key);
  }
}

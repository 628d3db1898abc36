import type { RateLimiter, RateLimitPermit } from '../limits/rate-limiter.js';

/** What the scheduler needs of a session: a key to queue on, and a way to hand it a turn. */
export interface Schedulable {
  readonly rateKey: string;
  /** Called with a permit when it is this session's turn; the session makes exactly one call with it. */
  take(permit: RateLimitPermit): void;
  /** Called instead of `take` when the rate limiter failed (a shared limiter's store is down, say). */
  refused(error: unknown): void;
  /** Ends the session as the client closes; resolves when its final call is done. */
  shutdown(): Promise<unknown>;
}

/** A FIFO of sessions without duplicates: a session waits in line at most once. */
class Line {
  readonly #items = new Set<Schedulable>();

  get size(): number {
    return this.#items.size;
  }

  add(session: Schedulable): void {
    this.#items.add(session);
  }

  delete(session: Schedulable): void {
    this.#items.delete(session);
  }

  shift(): Schedulable | undefined {
    for (const session of this.#items) {
      this.#items.delete(session);
      return session;
    }
    return undefined;
  }
}

/**
 * Shares a client's call budget among its stream sessions. Sessions with text to send wait in one
 * line per API; each time the rate limiter grants a call, the session at the head gets it and goes
 * to the back once it has more to send. Every waiting session thus gets one call per round
 * (round-robin), a chatty stream cannot starve the others, and since a session takes its text only
 * when its turn comes, text written while it waited goes out in the same call.
 */
export class StreamScheduler {
  readonly #limiter: RateLimiter;
  readonly #lines = new Map<string, Line>();
  readonly #pumping = new Set<string>();
  readonly #open = new Set<Schedulable>();

  constructor(limiter: RateLimiter) {
    this.#limiter = limiter;
  }

  /** Sessions not yet finished. */
  get openSessions(): number {
    return this.#open.size;
  }

  /** Registers a new session, so that `close()` can finish it. */
  register(session: Schedulable): void {
    this.#open.add(session);
  }

  /** Forgets a finished session. */
  unregister(session: Schedulable): void {
    this.#open.delete(session);
    this.#lines.get(session.rateKey)?.delete(session);
  }

  /** Puts a session with something to send in line for a call. */
  ready(session: Schedulable): void {
    let line = this.#lines.get(session.rateKey);
    if (!line) {
      line = new Line();
      this.#lines.set(session.rateKey, line);
    }
    line.add(session);
    if (!this.#pumping.has(session.rateKey)) void this.#pump(session.rateKey, line);
  }

  /** Finishes every open session (each still makes its final call) and resolves when all are done. */
  async close(): Promise<void> {
    await Promise.all([...this.#open].map((session) => session.shutdown()));
  }

  async #pump(key: string, line: Line): Promise<void> {
    this.#pumping.add(key);
    try {
      while (line.size > 0) {
        let permit: RateLimitPermit;
        try {
          permit = await this.#limiter.acquire(key);
        } catch (error) {
          for (let session = line.shift(); session; session = line.shift()) session.refused(error);
          return;
        }
        const session = line.shift();
        if (session) session.take(permit);
        else permit.release();
      }
    } finally {
      this.#pumping.delete(key);
    }
  }
}

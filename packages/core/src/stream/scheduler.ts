import TinyQueue from 'tinyqueue';
import {
  type BudgetCharge,
  noRateLimit,
  type RateLimiter,
  type RateLimitPermit,
} from '../limits/rate-limiter.js';
import { TurnPermit } from '../limits/turn-permit.js';

/**
 * What a session's next call does to its message: `open` starts one that will stay open, `continue`
 * adds to an open one, `close` ends one (or opens and ends it in one call).
 */
export type CallKind = 'open' | 'continue' | 'close';

/** What the scheduler needs of a session: a key to queue on, and a way to hand it a turn. */
export interface Schedulable {
  readonly rateKey: string;
  /** The fields of its calls that name budgets of their own (a group), for the client's `charges`. */
  readonly rateFields?: Readonly<Record<string, unknown>> | undefined;
  /** How long the cloud keeps an open message waiting for its next call before it ends it. */
  readonly idleLimitMs: number;
  /**
   * Called when it is this session's turn, with the turn's budget permit: the session makes at most
   * one call, at once, and hands it `permit` (the call spends it, and the session drops it once the
   * call settled). Returns false if it made no call: the scheduler then frees the permit.
   */
  take(permit: TurnPermit): boolean;
  /** Called instead of `take` when the rate limiter failed (a shared limiter's store is down, say). */
  refused(error: unknown): void;
  /** Ends the session as the client closes; resolves when its final call is done. */
  shutdown(): Promise<unknown>;
}

export interface StreamSchedulerOptions {
  /** Monotonic clock in milliseconds, shared with the sessions; injectable for tests. */
  now?: () => number;
  /** Hears each stream call answered, with how long its oldest text waited (the client's telemetry). */
  onDelivered?: (latencyMs: number) => void;
  /**
   * The budgets a call of `api` with these fields draws on, from the cloud's rate table (the API's,
   * its group's). Without it every call draws on its API's budget alone, keyed by `api`.
   */
  charges?: (api: string, fields: Readonly<Record<string, unknown>>) => readonly BudgetCharge[];
}

/** A session's line: the key of its lane and the budgets its calls draw on. */
interface LaneRef {
  key: string;
  /** The API: what a limiter without `acquireAll` is asked for. */
  api: string;
  charges: readonly BudgetCharge[] | undefined;
}

/**
 * Share of the budget that open messages may need just to stay open. With `capacity` open messages
 * served round-robin, each gets a call every `capacity / rate` seconds; keeping that at 60 % of the
 * cloud's idle limit leaves the rest of the budget for closing calls and for lateness.
 */
const KEEP_ALIVE_SHARE = 0.6;

/**
 * How many messages `callsPerSecond` can keep open at once when the cloud ends a message after
 * `idleLimitMs` without a call: the admission rule of the scheduler, for anyone who states its bounds.
 */
export function keepAliveCapacity(callsPerSecond: number, idleLimitMs: number): number {
  return Math.max(1, Math.floor(callsPerSecond * (idleLimitMs / 1000) * KEEP_ALIVE_SHARE));
}

/**
 * An open message goes ahead of everyone once this share of its idle limit has passed since its last
 * call: with `KEEP_ALIVE_SHARE` open messages, a round takes 60 % of the limit, so past 40 % the
 * messages are served in the order the cloud would end them, and none is ended.
 */
const URGENT_AFTER = 0.4;

interface Deadline {
  at: number;
  session: Schedulable;
}

/**
 * The sessions whose calls draw on one set of budgets (an API's, or an API's and one group's): who
 * waits, in which line. One lane asks the limiter for one call at a time, so lanes of one API are
 * served in turn by the API's budget, and a lane whose group budget is spent waits alone.
 */
class Lane {
  /** Closing calls, ahead of everyone: the one whose text has waited longest first (stale entries skipped). */
  readonly closing = new TinyQueue<Deadline>([], (a, b) => a.at - b.at);
  readonly closingSince = new Map<Schedulable, number>();
  /** Everything else that is ready, round-robin. */
  readonly regular = new Set<Schedulable>();
  /** Deadlines of the open messages in `regular`, earliest first (stale entries are skipped). */
  readonly deadlines = new TinyQueue<Deadline>([], (a, b) => a.at - b.at);
  readonly deadlineOf = new Map<Schedulable, number>();
  /** Sessions that may have a message open: admitted, holding a share of the budget. */
  readonly admitted = new Set<Schedulable>();
  /** Sessions waiting to open a message, in arrival order. */
  readonly waiting = new Set<Schedulable>();
  capacity = Number.POSITIVE_INFINITY;
  pumping = false;
  constructor(readonly ref: LaneRef) {}

  get ready(): number {
    return this.closingSince.size + this.regular.size;
  }

  forget(session: Schedulable): void {
    this.closingSince.delete(session);
    this.regular.delete(session);
    this.waiting.delete(session);
    this.deadlineOf.delete(session);
  }
}

function first<T>(set: Set<T>): T | undefined {
  for (const item of set) return item;
  return undefined;
}

const NO_FIELDS: Readonly<Record<string, unknown>> = Object.freeze({});

/** The permit of a call nothing limits: one for all, as it holds nothing. */
const FREE_PERMIT: RateLimitPermit = { release() {} };

/**
 * The one owner of a client's call budget: every call, a stream's chunk or a one-shot call, takes its
 * permit from here (`acquire`), and the budget is shared among the stream sessions so that every
 * message stays alive and none starves, at any number of sessions.
 *
 * Each time the rate limiter grants a call of an API, the scheduler picks who makes it:
 * 1. the open message closest to the cloud's idle limit, once it is past `URGENT_AFTER` of it
 *    (earliest deadline first), so no message is ever ended for want of a call;
 * 2. else a session whose call closes a message (endings never wait behind a saturated budget),
 *    the one whose text has waited longest first;
 * 3. else the next session round-robin, so a chatty stream cannot starve the others.
 *
 * Admission control keeps the number of open messages within what the budget can keep alive
 * (`rate × idle limit × KEEP_ALIVE_SHARE`): past it, a new session waits to open its message, in
 * arrival order, while its text keeps collecting. A message that opens and closes in one call
 * needs no admission. Since a session takes its text only when its turn comes, text written while
 * it waited goes out in the same call: under pressure, chunks grow, calls do not.
 */
export class StreamScheduler {
  readonly #limiter: RateLimiter;
  readonly #lanes = new Map<string, Lane>();
  readonly #open = new Set<Schedulable>();
  readonly #charges: StreamSchedulerOptions['charges'];
  /** Each session's line, worked out once: its budgets do not change while it lives. */
  readonly #refs = new WeakMap<Schedulable, LaneRef>();
  /** The clock the sessions and the deadlines share. */
  readonly now: () => number;

  /** Called by a session when one of its calls is answered: how long its oldest text waited. */
  readonly delivered: (latencyMs: number) => void;

  constructor(limiter: RateLimiter, options: StreamSchedulerOptions = {}) {
    this.#limiter = limiter;
    this.now = options.now ?? (() => performance.now());
    this.delivered = options.onDelivered ?? (() => undefined);
    this.#charges = options.charges;
  }

  /**
   * The permit of a call made outside any turn (a call made in a turn carries that turn's permit
   * with it): it waits for the limiter (without a limiter, nothing waits: no promise, no turn of the
   * event loop).
   */
  acquire(
    key: string,
    signal?: AbortSignal,
    charges?: readonly BudgetCharge[],
  ): RateLimitPermit | Promise<RateLimitPermit> {
    if (this.#limiter === noRateLimit) return FREE_PERMIT;
    return this.#take(key, charges, signal);
  }

  /** Every budget of `charges` in one step where the limiter can (`acquireAll`), else `key`'s. */
  #take(
    key: string,
    charges: readonly BudgetCharge[] | undefined,
    signal?: AbortSignal,
  ): Promise<RateLimitPermit> {
    const limiter = this.#limiter;
    if (charges && charges.length > 0 && limiter.acquireAll) return limiter.acquireAll(charges, signal);
    return limiter.acquire(key, signal);
  }

  /**
   * The budget's lowest class: makes a best-effort call of `key` (a typing or status signal) at once
   * if it costs text nothing, and returns false (the call is not made) otherwise. `send` is handed
   * the permit it may spend, when one was taken for it. It costs text
   * nothing when no session of `key` waits for a call and the limiter has a slot free with nobody
   * waiting for one (`tryAcquire`); a limiter that cannot tell at once lets it go while `inUse`
   * shows at most half the budget taken.
   */
  status(key: string, send: (permit?: TurnPermit) => unknown): boolean {
    const lane = this.#lanes.get(key);
    if (lane && (lane.ready > 0 || lane.waiting.size > 0)) return false;
    const limiter = this.#limiter;
    if (limiter.tryAcquire || limiter.tryAcquireAll) {
      // A signal counts where its call counts: the API's budget as the table keys it (one recipient).
      const charges = limiter.tryAcquireAll && this.#charges?.(key, NO_FIELDS);
      const permit =
        charges && charges.length > 0 ? limiter.tryAcquireAll?.(charges) : limiter.tryAcquire?.(key);
      if (!permit) return false;
      const turn = new TurnPermit(permit);
      const drop = () => turn.drop();
      let call: unknown;
      try {
        call = send(turn);
      } finally {
        // The signal's call spends the permit; one that failed before it did frees it as it settles.
        Promise.resolve(call).then(drop, drop);
      }
      return true;
    }
    const inUse = limiter.inUse?.(key);
    const rate = limiter.callsPerSecond?.(key);
    if (inUse !== undefined && rate !== undefined && inUse >= rate / 2) return false;
    send();
    return true;
  }

  /** Whether calls wait for a limiter at all (`rateLimit: false` has none). */
  get limited(): boolean {
    return this.#limiter !== noRateLimit;
  }

  /** Sessions not yet finished. */
  get openSessions(): number {
    return this.#open.size;
  }

  /** Sessions waiting for a call, of every key: ready to make one, or waiting to open a message. */
  get queued(): number {
    let queued = 0;
    for (const lane of this.#lanes.values()) queued += lane.ready + lane.waiting.size;
    return queued;
  }

  /** Sessions of `key` waiting to open a message because the budget keeps no more alive. */
  waitingToOpen(key: string): number {
    return this.#lanes.get(key)?.waiting.size ?? 0;
  }

  /** How many messages of `key` may be open at once (Infinity when the limiter declares no rate). */
  capacity(key: string): number {
    return this.#lanes.get(key)?.capacity ?? Number.POSITIVE_INFINITY;
  }

  /** Registers a new session, so that `close()` can finish it. */
  register(session: Schedulable): void {
    this.#open.add(session);
  }

  /** Forgets a finished session, freeing its place for the next waiting one. */
  unregister(session: Schedulable): void {
    this.#open.delete(session);
    const lane = this.#lanes.get(this.#ref(session).key);
    if (!lane) return;
    lane.forget(session);
    this.messageClosed(session);
  }

  /**
   * Puts a session in line for a call of the given kind (moving it if it waits in another line).
   * `deadline` is when the cloud would end the session's open message, if one is open; `since`, for
   * a closing call, is when the oldest text it carries was written.
   */
  ready(session: Schedulable, kind: CallKind, order: { deadline?: number; since?: number } = {}): void {
    const lane = this.#lane(session);
    if (kind === 'open' && lane.waiting.has(session)) return; // keeps its place in line
    lane.forget(session);
    if (order.deadline !== undefined) {
      lane.deadlineOf.set(session, order.deadline);
      lane.deadlines.push({ at: order.deadline, session });
    }
    if (kind === 'close') {
      const since = order.since ?? this.now();
      lane.closingSince.set(session, since);
      lane.closing.push({ at: since, session });
    } else if (kind === 'continue' || lane.admitted.has(session)) lane.regular.add(session);
    else if (lane.admitted.size < lane.capacity && lane.waiting.size === 0) {
      lane.admitted.add(session);
      lane.regular.add(session);
    } else {
      lane.waiting.add(session);
      return;
    }
    void this.#pump(lane);
  }

  /** The session's message has closed (or was given up): its place goes to the next waiting session. */
  messageClosed(session: Schedulable): void {
    const lane = this.#lanes.get(this.#ref(session).key);
    if (!lane?.admitted.delete(session)) return;
    let admittedAny = false;
    while (lane.admitted.size < lane.capacity) {
      const next = first(lane.waiting);
      if (!next) break;
      lane.waiting.delete(next);
      lane.admitted.add(next);
      lane.regular.add(next);
      admittedAny = true;
    }
    if (admittedAny) void this.#pump(lane);
  }

  /** Finishes every open session (each still makes its final call) and resolves when all are done. */
  async close(): Promise<void> {
    await Promise.all([...this.#open].map((session) => session.shutdown()));
  }

  /**
   * The session's line: keyed by the budgets its calls draw on (`api|group-messages:g1`), so the
   * sessions of one group share a lane and each group has its own; by its API without `charges`.
   */
  #ref(session: Schedulable): LaneRef {
    let ref = this.#refs.get(session);
    if (!ref) {
      const charges = this.#charges?.(session.rateKey, session.rateFields ?? {});
      const key = charges && charges.length > 0 ? charges.map((c) => c.key).join('|') : session.rateKey;
      ref = { key, api: session.rateKey, charges };
      this.#refs.set(session, ref);
    }
    return ref;
  }

  #lane(session: Schedulable): Lane {
    const ref = this.#ref(session);
    let lane = this.#lanes.get(ref.key);
    if (!lane) {
      lane = new Lane(ref);
      // The lane keeps alive what its scarcest budget allows (a group's 40 a second, not its API's 200).
      let rate = this.#limiter.callsPerSecond?.(session.rateKey);
      for (const charge of ref.charges ?? []) {
        rate = Math.min(
          rate ?? Number.POSITIVE_INFINITY,
          (charge.limit * 1000) / charge.windowMs / charge.units,
        );
      }
      if (rate !== undefined && Number.isFinite(rate))
        lane.capacity = keepAliveCapacity(rate, session.idleLimitMs);
      this.#lanes.set(ref.key, lane);
    }
    return lane;
  }

  /** The session that gets the next call, taken out of its line. */
  #pick(lane: Lane): Schedulable | undefined {
    const now = this.now();
    for (let top = lane.deadlines.peek(); top; top = lane.deadlines.peek()) {
      if (lane.deadlineOf.get(top.session) !== top.at) {
        lane.deadlines.pop(); // the session was served or moved since
        continue;
      }
      const urgentAt = top.at - top.session.idleLimitMs * (1 - URGENT_AFTER);
      if (now < urgentAt) break;
      lane.deadlines.pop();
      lane.forget(top.session);
      return top.session;
    }
    for (let top = lane.closing.pop(); top; top = lane.closing.pop()) {
      if (lane.closingSince.get(top.session) !== top.at) continue; // served or moved since
      lane.forget(top.session);
      return top.session;
    }
    const next = first(lane.regular);
    if (next) lane.forget(next);
    return next;
  }

  /** Gives `session` its turn with `permit`; the slot is freed at once if the session made no call. */
  #serve(session: Schedulable, permit: RateLimitPermit): void {
    const turn = new TurnPermit(permit);
    let made = false;
    try {
      made = session.take(turn);
    } finally {
      if (!made) turn.drop();
    }
  }

  async #pump(lane: Lane): Promise<void> {
    if (lane.pumping) return;
    lane.pumping = true;
    try {
      while (lane.ready > 0) {
        let permit: RateLimitPermit;
        try {
          permit = await this.#take(lane.ref.api, lane.ref.charges);
        } catch (error) {
          for (let session = this.#pick(lane); session; session = this.#pick(lane)) session.refused(error);
          return;
        }
        const session = this.#pick(lane);
        if (session) this.#serve(session, permit);
        else permit.release();
      }
    } finally {
      lane.pumping = false;
    }
  }
}

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InMemoryRateLimiter, type RateLimiter, type RateLimitPermit } from '../limits/rate-limiter.js';
import { type Schedulable, StreamScheduler } from './scheduler.js';

/** A limiter that grants one call each time the test says so, declaring `rate` calls per second. */
class ManualLimiter implements RateLimiter {
  readonly #waiting: ((permit: RateLimitPermit) => void)[] = [];
  constructor(readonly rate: number) {}
  acquire(): Promise<RateLimitPermit> {
    return new Promise((resolve) => this.#waiting.push(resolve));
  }
  callsPerSecond(): number {
    return this.rate;
  }
  /** Grants `n` calls, one at a time, letting the scheduler pick between them. */
  async grant(n = 1): Promise<void> {
    for (let i = 0; i < n; i++) {
      await vi.advanceTimersByTimeAsync(0);
      this.#waiting.shift()?.({ release() {} });
      await vi.advanceTimersByTimeAsync(0);
    }
  }
}

let served: string[];

class Session implements Schedulable {
  readonly rateKey = 'api';
  readonly idleLimitMs = 15_000;
  constructor(readonly name: string) {}
  /** Makes no call: the scheduler frees the turn's permit. */
  take(): boolean {
    served.push(this.name);
    return false;
  }
  refused(): void {
    served.push(`${this.name}!`);
  }
  shutdown(): Promise<unknown> {
    return Promise.resolve();
  }
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(0);
  served = [];
});
afterEach(() => {
  vi.useRealTimers();
});

const make = (names: string[]) => names.map((name) => new Session(name));

describe('StreamScheduler', () => {
  it('gives closing calls the next grant, ahead of everyone waiting', async () => {
    const limiter = new ManualLimiter(100);
    const scheduler = new StreamScheduler(limiter, { now: () => Date.now() });
    const [a, b, c] = make(['a', 'b', 'c']) as [Session, Session, Session];
    scheduler.ready(a, 'open');
    scheduler.ready(b, 'open');
    scheduler.ready(c, 'close');
    await limiter.grant(3);
    expect(served).toEqual(['c', 'a', 'b']);
  });

  it('among closing calls, serves the one whose text has waited longest first', async () => {
    const limiter = new ManualLimiter(100);
    const scheduler = new StreamScheduler(limiter, { now: () => Date.now() });
    const [a, b, c] = make(['a', 'b', 'c']) as [Session, Session, Session];
    scheduler.ready(a, 'close', { since: 3_000 });
    scheduler.ready(b, 'close', { since: 1_000 });
    scheduler.ready(c, 'close', { since: 2_000 });
    await limiter.grant(3);
    expect(served).toEqual(['b', 'c', 'a']);
  });

  it('serves open messages near the idle limit first (earliest deadline first), then closings, then round-robin', async () => {
    const limiter = new ManualLimiter(100);
    const scheduler = new StreamScheduler(limiter, { now: () => Date.now() });
    const [a, b, late, later] = make(['a', 'b', 'late', 'later']) as Session[] as [
      Session,
      Session,
      Session,
      Session,
    ];
    vi.setSystemTime(20_000);
    // a and b were served 1 s ago; "late" 10 s ago and "later" 12 s ago: past 40 % of the 15 s limit,
    // and "ending" closes a message served 13 s ago. They go first, even ahead of other closing calls.
    const [ending, oneShot] = make(['ending', 'one-shot']) as [Session, Session];
    scheduler.ready(a, 'continue', { deadline: 19_000 + 15_000 });
    scheduler.ready(late, 'continue', { deadline: 10_000 + 15_000 });
    scheduler.ready(oneShot, 'close', { since: 0 });
    scheduler.ready(b, 'continue', { deadline: 19_000 + 15_000 });
    scheduler.ready(later, 'continue', { deadline: 8_000 + 15_000 });
    scheduler.ready(ending, 'close', { since: 7_000, deadline: 7_000 + 15_000 });
    await limiter.grant(6);
    expect(served).toEqual(['ending', 'later', 'late', 'one-shot', 'a', 'b']);
  });

  it('moves a waiting session to the closing line when its next call becomes a closing one', async () => {
    const limiter = new ManualLimiter(100);
    const scheduler = new StreamScheduler(limiter, { now: () => Date.now() });
    const [a, b] = make(['a', 'b']) as [Session, Session];
    scheduler.ready(a, 'open');
    scheduler.ready(b, 'open');
    scheduler.ready(b, 'close');
    await limiter.grant(2);
    expect(served).toEqual(['b', 'a']);
  });

  it('opens no more messages than the budget keeps alive; the others wait in arrival order', async () => {
    // 1 call/s keeps floor(1 × 15 s × 0.6) = 9 messages alive.
    const limiter = new ManualLimiter(1);
    const scheduler = new StreamScheduler(limiter, { now: () => Date.now() });
    const sessions = make(Array.from({ length: 12 }, (_, i) => `s${i}`));
    for (const s of sessions) scheduler.ready(s, 'open');
    expect(scheduler.capacity('api')).toBe(9);
    expect(scheduler.waitingToOpen('api')).toBe(3);
    // A message that opens and closes in one call needs no admission.
    const oneShot = new Session('one-shot');
    scheduler.ready(oneShot, 'close');
    await limiter.grant(10);
    expect(served).toEqual(['one-shot', 's0', 's1', 's2', 's3', 's4', 's5', 's6', 's7', 's8']);
    // s2 and s0 close their messages: s9, then s10, are admitted, in the order they came.
    scheduler.messageClosed(sessions[2] as Session);
    scheduler.messageClosed(sessions[0] as Session);
    expect(scheduler.waitingToOpen('api')).toBe(1);
    await limiter.grant(2);
    expect(served.slice(10)).toEqual(['s9', 's10']);
    scheduler.unregister(sessions[5] as Session);
    await limiter.grant(1);
    expect(served.slice(12)).toEqual(['s11']);
  });

  it('admits everyone when the limiter declares no rate', async () => {
    const limiter: RateLimiter = { acquire: () => Promise.resolve({ release() {} }) };
    const scheduler = new StreamScheduler(limiter, { now: () => Date.now() });
    for (const s of make(['a', 'b', 'c'])) scheduler.ready(s, 'open');
    await vi.advanceTimersByTimeAsync(0);
    expect(served).toEqual(['a', 'b', 'c']);
    expect(scheduler.capacity('api')).toBe(Number.POSITIVE_INFINITY);
  });

  it('refuses every waiting session when the limiter fails', async () => {
    const limiter: RateLimiter = { acquire: () => Promise.reject(new Error('store down')) };
    const scheduler = new StreamScheduler(limiter, { now: () => Date.now() });
    for (const s of make(['a', 'b'])) scheduler.ready(s, 'open');
    await vi.advanceTimersByTimeAsync(0);
    expect(served).toEqual(['a!', 'b!']);
  });

  describe('as the one owner of the budget', () => {
    /** A limiter that grants at once and counts the slots held. */
    class CountingLimiter implements RateLimiter {
      acquired = 0;
      held = 0;
      acquire(): Promise<RateLimitPermit> {
        this.acquired++;
        this.held++;
        return Promise.resolve({ release: () => void this.held-- });
      }
    }

    it("hands the turn's permit to the session's call, which spends it however late it asks", async () => {
      const limiter = new CountingLimiter();
      const scheduler = new StreamScheduler(limiter, { now: () => Date.now() });
      const spent: (RateLimitPermit | undefined)[] = [];
      const session: Schedulable = {
        rateKey: 'api',
        idleLimitMs: 15_000,
        take: (permit) => {
          // The call reaches its budget layer only after an await on the way: the permit travels with it.
          void Promise.resolve().then(() => {
            spent.push(permit.take());
            spent.push(permit.take());
          });
          return true;
        },
        refused: () => undefined,
        shutdown: () => Promise.resolve(),
      };
      scheduler.ready(session, 'open');
      await vi.advanceTimersByTimeAsync(0);
      // One permit for the turn, spent once: a second attempt of the call would wait for the limiter.
      expect(spent[0]).toBeDefined();
      expect(spent[1]).toBeUndefined();
      expect(limiter.acquired).toBe(1);
      expect(limiter.held).toBe(1);
      spent[0]?.release();
      expect(limiter.held).toBe(0);
    });

    it('frees the slot of a turn in which the session made no call', async () => {
      const limiter = new CountingLimiter();
      const scheduler = new StreamScheduler(limiter, { now: () => Date.now() });
      const [a] = make(['a']) as [Session];
      scheduler.ready(a, 'open');
      await vi.advanceTimersByTimeAsync(0);
      expect(served).toEqual(['a']);
      expect(limiter.acquired).toBe(1);
      expect(limiter.held).toBe(0);
    });

    it('lets a call outside any turn wait for the limiter of its own key', async () => {
      const limiter = new CountingLimiter();
      const scheduler = new StreamScheduler(limiter, { now: () => Date.now() });
      const permit = await scheduler.acquire('other');
      expect(limiter.held).toBe(1);
      permit.release();
      expect(limiter.held).toBe(0);
    });
  });
});

describe('StreamScheduler with budgets per group', () => {
  /** A session in a group: its calls draw on the API's budget and the group's. */
  class GroupSession extends Session {
    readonly rateFields: Readonly<Record<string, unknown>>;
    constructor(name: string, group: string) {
      super(name);
      this.rateFields = { group };
    }
  }
  const charges = (api: string, fields: Readonly<Record<string, unknown>>) => [
    { key: api, units: 1, limit: 100, windowMs: 1000 },
    ...(typeof fields.group === 'string'
      ? [{ key: `group:${fields.group}`, units: 1, limit: 2, windowMs: 1000 }]
      : []),
  ];

  it('serves the conversations of a group round-robin, and a spent group does not hold up another group', async () => {
    const limiter = new InMemoryRateLimiter({ limit: 100, now: () => Date.now() });
    const scheduler = new StreamScheduler(limiter, { now: () => Date.now(), charges });
    const sessions = [
      new GroupSession('a1', 'a'),
      new GroupSession('a2', 'a'),
      new GroupSession('a3', 'a'),
      new GroupSession('b1', 'b'),
    ];
    for (const s of sessions) scheduler.ready(s, 'continue');
    await vi.advanceTimersByTimeAsync(0);
    // Group a's two calls a second went to a1 and a2; a3 waits for the group, b1 went at once.
    expect(served.sort()).toEqual(['a1', 'a2', 'b1']);
    served = [];
    await vi.advanceTimersByTimeAsync(1000);
    expect(served).toEqual(['a3']);
  });
});

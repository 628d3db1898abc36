import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError, ValidationError } from '../errors.js';
import { InMemoryRateLimiter } from '../limits/rate-limiter.js';
import { type Schedulable, StreamScheduler } from './scheduler.js';
import { TypingIndicator, type TypingSignal } from './typing.js';

let sent: { at: number; statusText: string | undefined }[];
let fail: Error | undefined;
let signals: AbortSignal[];

const signal = (renewMs = 4000): TypingSignal => ({
  rateKey: 'typing-api',
  renewMs,
  send: (statusText, abort) => {
    signals.push(abort);
    sent.push({ at: Date.now(), statusText });
    return fail ? Promise.reject(fail) : Promise.resolve();
  },
});

const limiter = (limit = 10) => new InMemoryRateLimiter({ limit, windowMs: 1000, now: () => Date.now() });

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(0);
  sent = [];
  signals = [];
  fail = undefined;
});
afterEach(() => {
  vi.useRealTimers();
});

describe('TypingIndicator', () => {
  it('signals at start, renews on the cadence while the silence lasts, and sends nothing after stop()', async () => {
    const typing = new TypingIndicator(signal(), new StreamScheduler(limiter(), { now: () => Date.now() }));
    expect(typing.state).toBe('idle');
    typing.start();
    expect(sent.map((s) => s.at)).toEqual([0]);
    await vi.advanceTimersByTimeAsync(8000);
    expect(sent.map((s) => s.at)).toEqual([0, 4000, 8000]);
    typing.stop();
    expect(signals.every((s) => s.aborted)).toBe(true);
    typing.start();
    typing.status('search');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(sent).toHaveLength(3);
    expect(typing.state).toBe('stopped');
  });

  it('started with stopAfterMs, stops by itself then and leaves no timer', async () => {
    const typing = new TypingIndicator(signal(), new StreamScheduler(limiter(), { now: () => Date.now() }));
    typing.start({ stopAfterMs: 10_000 });
    await vi.advanceTimersByTimeAsync(9_999);
    expect(typing.state).toBe('typing');
    await vi.advanceTimersByTimeAsync(1);
    expect(typing.state).toBe('stopped');
    expect(sent.map((s) => s.at)).toEqual([0, 4000, 8000]);
    expect(signals.every((s) => s.aborted)).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('names what runs at once, at most once a second, and keeps the word on renewals', async () => {
    const typing = new TypingIndicator(signal(), new StreamScheduler(limiter(), { now: () => Date.now() }));
    typing.status('search');
    typing.status('fetch'); // within the second: waits for it
    expect(sent).toEqual([{ at: 0, statusText: 'search' }]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(sent.at(-1)).toEqual({ at: 1000, statusText: 'fetch' });
    typing.status('fetch'); // the same word: no extra signal
    await vi.advanceTimersByTimeAsync(4000);
    expect(sent.map((s) => [s.at, s.statusText])).toEqual([
      [0, 'search'],
      [1000, 'fetch'],
      [5000, 'fetch'],
    ]);
  });

  it('stops for good when the cloud refuses the signal, but keeps going through transient failures', async () => {
    const scheduler = new StreamScheduler(limiter(), { now: () => Date.now() });
    fail = new ApiError('HTTP_STATUS', 'a 502', { endpoint: 'x', retryable: true });
    const flaky = new TypingIndicator(signal(), scheduler);
    flaky.start();
    await vi.advanceTimersByTimeAsync(4000);
    expect(flaky.state).toBe('typing');
    fail = new ValidationError('to', 'to: not a user');
    const refused = new TypingIndicator(signal(), scheduler);
    refused.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(refused.state).toBe('stopped');
  });
});

describe('the budget’s lowest class (StreamScheduler.status)', () => {
  const session = (take: () => void): Schedulable => ({
    rateKey: 'typing-api',
    idleLimitMs: 15_000,
    take: () => {
      take();
      return false;
    },
    refused() {},
    shutdown: () => Promise.resolve(),
  });

  it('drops a typing signal while text of the same budget waits, and tries again a second later', async () => {
    const budget = limiter(1);
    const scheduler = new StreamScheduler(budget, { now: () => Date.now() });
    // The one slot is taken by text; a second text call waits for the next.
    const held = budget.tryAcquire('typing-api');
    expect(held).toBeDefined();
    let textCalls = 0;
    scheduler.ready(
      session(() => textCalls++),
      'open',
    );
    const typing = new TypingIndicator(signal(), scheduler);
    typing.start();
    expect(sent).toEqual([]);
    expect(typing.counts).toEqual({ sent: 0, dropped: 1 });
    held?.release();
    await vi.advanceTimersByTimeAsync(1000);
    expect(textCalls).toBe(1);
    expect(sent).toEqual([]);
    // Text went first; a retry once its slot had cooled found the budget free.
    await vi.advanceTimersByTimeAsync(1000);
    expect(sent).toHaveLength(1);
    expect(typing.counts.sent).toBe(1);
  });

  it('a signal takes a slot like any call, so it never pushes the budget past its limit', async () => {
    const budget = limiter(2);
    const scheduler = new StreamScheduler(budget, { now: () => Date.now() });
    const made = [1, 2, 3].map(() => scheduler.status('typing-api', () => undefined));
    expect(made).toEqual([true, true, false]);
    expect(budget.inUse('typing-api')).toBe(2);
  });

  it('with a limiter that cannot tell at once, goes only while at most half the budget is in use', () => {
    let inUse = 0;
    const scheduler = new StreamScheduler(
      {
        acquire: () => Promise.resolve({ release() {} }),
        callsPerSecond: () => 10,
        inUse: () => inUse,
      },
      { now: () => Date.now() },
    );
    let calls = 0;
    expect(scheduler.status('typing-api', () => calls++)).toBe(true);
    inUse = 5;
    expect(scheduler.status('typing-api', () => calls++)).toBe(false);
    expect(calls).toBe(1);
  });
});

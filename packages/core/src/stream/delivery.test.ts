import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { NetworkError, TimeoutError } from '../errors.js';
import { InMemoryRateLimiter } from '../limits/rate-limiter.js';
import { TurnPermit } from '../limits/turn-permit.js';
import { TencentApiError } from '../tencent/errors.js';
import { Delivery } from './delivery.js';
import { StreamScheduler } from './scheduler.js';
import { StreamSession } from './session.js';
import type { ReadBack, StreamTransport } from './transport.js';

/** A transport whose calls fail as the test says, and whose read-back answers as it says. */
class LossyTransport implements StreamTransport {
  readonly rateKey = 'stream';
  readonly maxMessageBytes = 12 * 1024;
  readonly maxPlainBytes = 1000;
  readonly minCallIntervalMs = 0;
  readonly emptyFinalChunk = true;
  readonly idleLimitMs = 15_000;
  readonly sent: string[] = [];
  readonly readBacksAt: number[] = [];
  failures: unknown[] = [];
  verdict: ReadBack | undefined = { applied: true, messageId: 'm1' };

  async send(chunk: string): Promise<{ messageId: string }> {
    this.sent.push(chunk);
    const failure = this.failures.shift();
    if (failure) throw failure;
    return { messageId: 'm1' };
  }

  async readBack(): Promise<ReadBack | undefined> {
    this.readBacksAt.push(Date.now());
    return this.verdict;
  }

  next(): void {}
  async sendPlain(): Promise<void> {}
  snapshot(): undefined {
    return undefined;
  }
  resume(): void {}
}

const permit = () => new TurnPermit({ release() {} });
const timeout = () => new TimeoutError('v4/stream', 1000);

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(0);
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Delivery', () => {
  it('reads back a call whose deadline passed only after the cloud had 2 s to apply it', async () => {
    const transport = new LossyTransport();
    transport.failures.push(timeout());
    const outcome = new Delivery(transport).send('Hello', false, undefined, permit(), false);
    await vi.advanceTimersByTimeAsync(1999);
    expect(transport.readBacksAt).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(await outcome).toEqual({ kind: 'delivered', messageId: 'm1' });
    expect(transport.readBacksAt).toEqual([2000]);
  });

  it('reads back at once, without the wait, once hurried (the session was aborted)', async () => {
    const transport = new LossyTransport();
    transport.failures.push(timeout());
    transport.verdict = { applied: false };
    const delivery = new Delivery(transport);
    const outcome = delivery.send('Hello', false, undefined, permit(), false);
    await vi.advanceTimersByTimeAsync(100);
    delivery.hurry();
    expect(await outcome).toEqual({ kind: 'unsent' });
    expect(transport.readBacksAt).toEqual([100]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('fails a call of unknown outcome once its read-backs are spent, or when the read-back cannot tell', async () => {
    const transport = new LossyTransport();
    const delivery = new Delivery(transport, { readBacks: 1, waitAfterTimeoutMs: 2000, closeAttempts: 5 });
    transport.failures.push(
      new NetworkError('v4/stream', true, 'reset'),
      new NetworkError('v4/stream', true, 'reset'),
    );
    expect(await delivery.send('a', false, undefined, permit(), false)).toMatchObject({ kind: 'delivered' });
    expect(await delivery.send('b', false, undefined, permit(), false)).toMatchObject({
      kind: 'failed',
      again: false,
    });
    const unsure = new LossyTransport();
    unsure.verdict = undefined;
    unsure.failures.push(new NetworkError('v4/stream', true, 'reset'));
    expect(await new Delivery(unsure).send('c', false, undefined, permit(), false)).toMatchObject({
      kind: 'failed',
    });
  });

  it('tries the closing call after a failure again while it fails transiently, five times in all', async () => {
    const transport = new LossyTransport();
    const delivery = new Delivery(transport);
    const busy = () => new TencentApiError(70_169, 'busy', { endpoint: 'v4/stream', retryable: true });
    const again: boolean[] = [];
    for (let i = 0; i < 5; i++) {
      transport.failures.push(busy());
      const outcome = await delivery.send('end', true, 'error', permit(), true);
      if (outcome.kind === 'failed') again.push(outcome.again);
    }
    expect(again).toEqual([true, true, true, true, false]);
    expect(transport.readBacksAt).toEqual([]);
  });

  it('frees the turn’s permit when the call failed before spending it', async () => {
    const transport = new LossyTransport();
    transport.failures.push(new TencentApiError(10_002, 'bad', { endpoint: 'v4/stream', retryable: false }));
    let released = 0;
    const turn = new TurnPermit({ release: () => void released++ });
    await new Delivery(transport).send('x', false, undefined, turn, false);
    expect(released).toBe(1);
  });
});

describe('a session aborted while a read-back waits for a slow cloud', () => {
  it('finishes promptly, with no timer left running', async () => {
    const transport = new LossyTransport();
    transport.failures.push(timeout());
    const scheduler = new StreamScheduler(new InMemoryRateLimiter({ limit: 100 }), { now: () => Date.now() });
    const session = new StreamSession(transport, scheduler, { minIntervalMs: 0 });
    let finished = false;
    void session.done.then(() => {
      finished = true;
    });
    session.write('Hello');
    await vi.advanceTimersByTimeAsync(10);
    // The last grapheme waits for what may follow it; the rest goes, and its answer is lost.
    expect(transport.sent).toEqual(['Hell']);
    void session.abort('user left');
    await vi.advanceTimersByTimeAsync(10);
    expect(finished).toBe(true);
    expect(await session.done).toMatchObject({ reason: 'aborted', text: 'Hello', messages: 1 });
    // The read-back found the chunk applied, so the closing call carries only the rest.
    expect(transport.sent).toEqual(['Hell', 'o']);
    expect(transport.readBacksAt).toEqual([10]);
    expect(vi.getTimerCount()).toBe(0);
  });
});

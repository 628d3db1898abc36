import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ApiError, NetworkError, outcomeUnknown, TimeoutError } from '../errors.js';
import { RongCloudApiError } from '../rongcloud/errors.js';
import { TencentApiError } from '../tencent/errors.js';
import { StreamSequence } from './transport.js';

const endpoint = 'x';
const refusal = () =>
  new RongCloudApiError(1002, 'seq out of order', { endpoint, retryable: false, status: 400 });
const isRefusal = (error: unknown) => error instanceof RongCloudApiError && error.errorCode === 1002;

describe('outcomeUnknown', () => {
  it('calls a cloud error code a refusal on both clouds, and a gateway status, timeout or reset unknown', () => {
    expect(outcomeUnknown(refusal())).toBe(false);
    expect(outcomeUnknown(new TencentApiError(10004, 'bad', { endpoint, retryable: false }))).toBe(false);
    expect(
      outcomeUnknown(new ApiError('HTTP_STATUS', '502', { endpoint, retryable: true, status: 502 })),
    ).toBe(true);
    expect(
      outcomeUnknown(new ApiError('HTTP_STATUS', '503', { endpoint, retryable: true, status: 503 })),
    ).toBe(false);
    expect(outcomeUnknown(new TimeoutError(endpoint, 10))).toBe(true);
    expect(outcomeUnknown(new NetworkError(endpoint, true, 'reset'))).toBe(true);
    expect(outcomeUnknown(new NetworkError(endpoint, false, 'refused'))).toBe(false);
  });
});

describe('StreamSequence', () => {
  /** A cloud that takes only the next number, and a network that may lose the answer either way. */
  type Fault = 'none' | 'lost-before' | 'lost-after';

  it('finds the number the cloud expects after any run of unknown outcomes, and never skips one', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom<Fault>('none', 'lost-before', 'lost-after'), { maxLength: 30 }),
        async (faults) => {
          const sequence = new StreamSequence(isRefusal);
          let expected = 1;
          const applied: number[] = [];
          const call = (fault: Fault) => async (seq: number) => {
            if (fault === 'lost-before') throw new NetworkError(endpoint, true, 'reset');
            if (seq !== expected) {
              if (fault === 'lost-after') throw new NetworkError(endpoint, true, 'reset');
              throw refusal();
            }
            applied.push(seq);
            expected++;
            if (fault === 'lost-after') throw new NetworkError(endpoint, true, 'reset');
            return seq;
          };
          for (const fault of faults) await sequence.next(call(fault)).catch(() => undefined);
          // Once the network behaves, the next call lands on the number the cloud expects.
          const before = expected;
          await expect(sequence.next(call('none'))).resolves.toBe(before);
          expect(applied).toEqual(Array.from({ length: expected - 1 }, (_, i) => i + 1));
        },
      ),
    );
  });
});

describe('StreamSequence on a refusal that is not about the order', () => {
  it('throws it at once and keeps the number it would try next', async () => {
    const sequence = new StreamSequence(isRefusal);
    // An unknown outcome: the cloud may expect 1 or 2 now; 2 is tried first.
    await sequence
      .next(async () => Promise.reject(new NetworkError(endpoint, true, 'reset')))
      .catch(() => undefined);
    expect(sequence.expected).toBe(2);
    const tooLong = new TencentApiError(93000, 'msg too long', { endpoint, retryable: false });
    const tried: number[] = [];
    await expect(
      sequence.next(async (seq) => {
        tried.push(seq);
        throw tooLong;
      }),
    ).rejects.toBe(tooLong);
    expect(tried).toEqual([2]);
    expect(sequence.expected).toBe(2);
  });
});

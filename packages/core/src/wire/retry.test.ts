import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelay, type RetryPolicy, withRetry } from './retry.js';

const policy: RetryPolicy = { retries: 3, minDelayMs: 100, maxDelayMs: 1000 };

describe('backoffDelay', () => {
  it('draws uniformly below a cap that doubles per attempt and stops at maxDelayMs', () => {
    expect(backoffDelay(0, policy, () => 0.999)).toBe(99);
    expect(backoffDelay(1, policy, () => 0.999)).toBe(199);
    expect(backoffDelay(3, policy, () => 0.999)).toBe(799);
    expect(backoffDelay(10, policy, () => 0.999)).toBe(999);
    expect(backoffDelay(5, policy, () => 0)).toBe(0);
  });

  it('stays within [0, cap) for any attempt and draw', () => {
    fc.assert(
      fc.property(
        fc.nat(60),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, draw) => {
          const delay = backoffDelay(attempt, policy, () => draw);
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThan(Math.min(policy.maxDelayMs, policy.minDelayMs * 2 ** attempt));
        },
      ),
    );
  });
});

describe('withRetry', () => {
  const fast: RetryPolicy = { retries: 2, minDelayMs: 0, maxDelayMs: 0 };

  it('returns the first success', async () => {
    let calls = 0;
    const result = await withRetry(
      async () => {
        calls++;
        if (calls < 3) throw new Error('transient');
        return 'ok';
      },
      () => 'retry',
      fast,
    );
    expect(result).toBe('ok');
    expect(calls).toBe(3);
  });

  it('throws the last error once the retries are spent', async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw new Error(`failure ${calls}`);
        },
        () => 'retry',
        fast,
      ),
    ).rejects.toThrow('failure 3');
  });

  it('throws at once when told to stop', async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw new Error('fatal');
        },
        () => 'stop',
        fast,
      ),
    ).rejects.toThrow('fatal');
    expect(calls).toBe(1);
  });

  it('grants one free repair per call, without spending a retry', async () => {
    const seen: number[] = [];
    await expect(
      withRetry(
        async (n) => {
          seen.push(n);
          throw new Error('expired');
        },
        () => 'again',
        { ...fast, retries: 0 },
      ),
    ).rejects.toThrow('expired');
    expect(seen).toEqual([0, 1]);
  });
});

import { describe, expect, it } from 'vitest';
import { Traffic } from './traffic.js';

describe('Traffic', () => {
  it('counts calls per API and refusals per second, and keeps the longest stream gap', () => {
    const traffic = new Traffic(200);
    traffic.call('a', true, 10_100);
    traffic.call('a', true, 10_900);
    traffic.call('b', true, 10_500);
    traffic.call('a', false, 10_600);
    traffic.streamGap(120, 10_200);
    traffic.streamGap(300, 10_700);
    traffic.call('a', true, 12_000);
    const { limitPerSecond, seconds } = traffic.view(12_500);
    expect(limitPerSecond).toBe(200);
    expect(seconds).toHaveLength(60);
    expect(seconds.at(-1)).toEqual({ at: 12_000, calls: { a: 1 }, refused: 0, streamGapMs: null });
    expect(seconds.at(-2)).toEqual({ at: 11_000, calls: {}, refused: 0, streamGapMs: null });
    expect(seconds.at(-3)).toEqual({ at: 10_000, calls: { a: 2, b: 1 }, refused: 1, streamGapMs: 300 });
  });

  it('forgets what is older than a minute and keeps 60 seconds whatever the traffic', () => {
    const traffic = new Traffic(100);
    for (let t = 0; t < 200_000; t += 250) traffic.call('a', true, t);
    const { seconds } = traffic.view(199_999);
    expect(seconds.map((s) => s.at)).toEqual(Array.from({ length: 60 }, (_, i) => 140_000 + i * 1000));
    expect(seconds.every((s) => s.calls.a === 4)).toBe(true);
    traffic.clear();
    expect(traffic.view(199_999).seconds.every((s) => Object.keys(s.calls).length === 0)).toBe(true);
  });

  it('counts a call whose clock stepped back in the latest second', () => {
    const traffic = new Traffic(100);
    traffic.call('a', true, 5_000);
    traffic.call('a', true, 4_999);
    expect(traffic.view(5_000).seconds.at(-1)?.calls).toEqual({ a: 2 });
  });
});

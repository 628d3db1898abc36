import { describe, expect, it } from 'vitest';
import { busiestWindow, SlidingWindow } from './window.js';

describe('SlidingWindow', () => {
  it('counts units, not calls: 3 units of 5 leave room for 2 more in the same window', () => {
    const window = new SlidingWindow(5, 1000);
    expect(window.admit(0, 3)).toBe(true);
    expect(window.fits(10, 3)).toBe(false);
    expect(window.admit(10, 3)).toBe(false);
    expect(window.admit(20, 2)).toBe(true);
    expect(window.counters).toMatchObject({ accepted: 5, rejected: 3, busiestWindow: 5 });
  });

  it('frees the units of an arrival once the window has moved a whole windowMs past it', () => {
    const window = new SlidingWindow(4, 1000);
    window.take(0, 4);
    expect(window.fits(999)).toBe(false);
    expect(window.fits(1000, 4)).toBe(true);
    expect(window.idle(1000)).toBe(true);
  });

  it('spends nothing on a refusal: fits only looks, refuse only counts', () => {
    const window = new SlidingWindow(1, 1000);
    window.take(0);
    window.refuse(2);
    expect(window.counters).toMatchObject({ accepted: 1, rejected: 2 });
    expect(window.fits(1000)).toBe(true);
  });
});

describe('busiestWindow', () => {
  it('is the most units within any window of the arrivals, in whatever order they are given', () => {
    const arrivals = [{ time: 1500, units: 2 }, { time: 0 }, { time: 999 }, { time: 1000, units: 3 }];
    // 0 and 999 share a window; 999, 1000 and 1500 another (1 + 3 + 2); 0 and 1000 do not.
    expect(busiestWindow(arrivals, 1000)).toBe(6);
    expect(busiestWindow(arrivals, 1)).toBe(3);
    expect(busiestWindow([], 1000)).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import { SlidingWindow } from './window.js';

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

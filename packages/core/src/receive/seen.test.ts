import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemorySeenStore } from './seen.js';

describe('MemorySeenStore', () => {
  it('says true the first time, false while remembered, true again once expired', () => {
    let now = 0;
    const store = new MemorySeenStore({ now: () => now });
    expect(store.remember('a', 1000)).toBe(true);
    expect(store.remember('a', 1000)).toBe(false);
    now = 999;
    expect(store.remember('a', 1000)).toBe(false);
    now = 1000;
    expect(store.remember('a', 1000)).toBe(true);
  });

  it('expires each lifetime on its own, a short one after a long one included', () => {
    let now = 0;
    const store = new MemorySeenStore({ now: () => now });
    store.remember('long', 10_000);
    for (let i = 0; i < 100; i++) store.remember(`short${i}`, 100);
    now = 200;
    store.remember('probe', 100);
    // The short-lived keys are gone although a long-lived one came before them.
    expect(store.size).toBe(2);
  });

  it('forgets the oldest keys first past maxKeys', () => {
    const store = new MemorySeenStore({ maxKeys: 3, now: () => 0 });
    for (const key of ['a', 'b', 'c', 'd']) store.remember(key, 1000);
    expect(store.size).toBe(3);
    expect(store.remember('a', 1000)).toBe(true);
    expect(store.remember('d', 1000)).toBe(false);
  });

  it('agrees with a plain model whatever the keys, lifetimes and clock steps', () => {
    const op = fc.record({
      key: fc.constantFrom('a', 'b', 'c', 'd'),
      ttl: fc.constantFrom(50, 100, 1000),
      step: fc.nat(300),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        let now = 0;
        const store = new MemorySeenStore({ now: () => now });
        const model = new Map<string, number>();
        for (const { key, ttl, step } of ops) {
          now += step;
          const fresh = !((model.get(key) ?? -1) > now);
          if (fresh) model.set(key, now + ttl);
          expect(store.remember(key, ttl)).toBe(fresh);
        }
      }),
    );
  });

  it('takes 300,000 new keys within maxKeys, keeping the newest', () => {
    let now = 0;
    const store = new MemorySeenStore({ maxKeys: 100_000, now: () => now });
    // One expect at the end, not one per key: 300,000 of them took seconds on a busy machine.
    let refused = 0;
    for (let i = 0; i < 300_000; i++) {
      now += 1;
      if (!store.remember(`k${i}`, 600_000)) refused++;
    }
    expect(refused).toBe(0);
    expect(store.size).toBe(100_000);
    expect(store.remember('k299999', 600_000)).toBe(false);
  });
});

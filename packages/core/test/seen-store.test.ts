import { describe, expect, it } from 'vitest';
import { MemorySeenStore } from '../src/index.js';

type Method = (this: unknown, ...args: unknown[]) => unknown;

/**
 * How many elements `run` walked over: every step of any Map, Set or array iterator (`for…of`,
 * `entries()`, spreading) and every element an array or collection method passes over (`forEach`,
 * `filter`, `find`, `indexOf`, …). A store that scans its keys has to go through one of these.
 */
function elementsVisited(run: () => void): number {
  let visited = 0;
  const restore: (() => void)[] = [];
  const wrap = (target: object, name: PropertyKey, count: (self: unknown, result: unknown) => number) => {
    const original = Reflect.get(target, name) as Method;
    Reflect.set(target, name, function (this: unknown, ...args: unknown[]) {
      const result = original.apply(this, args);
      visited += count(this, result);
      return result;
    });
    restore.push(() => Reflect.set(target, name, original));
  };
  const iterators = [new Map().entries(), new Set().values(), [].values()];
  for (const iterator of iterators)
    wrap(Object.getPrototypeOf(iterator), 'next', (_, step) =>
      (step as IteratorResult<unknown>).done ? 0 : 1,
    );
  const size = (self: unknown) => (self as { size: number }).size;
  wrap(Map.prototype, 'forEach', size);
  wrap(Set.prototype, 'forEach', size);
  const length = (self: unknown) => (self as unknown[]).length;
  for (const name of [
    'forEach',
    'filter',
    'find',
    'findIndex',
    'some',
    'every',
    'reduce',
    'map',
    'indexOf',
    'includes',
  ])
    wrap(Array.prototype, name, length);
  try {
    run();
  } finally {
    for (const undo of restore.reverse()) undo();
  }
  return visited;
}

describe('MemorySeenStore', () => {
  it('expires each lifetime on its own, without scanning the keys it holds', () => {
    let now = 0;
    const store = new MemorySeenStore({ now: () => now });
    for (let i = 0; i < 20_000; i++) store.remember(`long${i}`, 60_000);
    // 100 short-lived keys come and go behind 20,000 long-lived ones.
    const visited = elementsVisited(() => {
      for (let i = 0; i < 100; i++) {
        now += 10;
        store.remember(`short${i}`, 15);
      }
    });
    // Each short-lived key expired although long-lived ones came before it: the last two remain.
    expect(store.size).toBe(20_002);
    expect(store.remember('short97', 15)).toBe(true);
    expect(store.remember('short99', 15)).toBe(false);
    // Expiry looked at the heads of two lifetimes (about 6 elements a call here), not at the
    // 20,000 keys: a sweep over them on each call would have walked 2,000,000.
    expect(visited).toBeLessThan(100 * 20);
  });
});

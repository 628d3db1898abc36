import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { utf8Bytes } from '../validation.js';
import { PendingText } from './pending.js';

describe('PendingText', () => {
  it('behaves as one string that grows at the end and is taken from the front', () => {
    const op = fc.oneof(
      fc.record({ write: fc.string({ unit: 'grapheme', maxLength: 30 }) }),
      fc.record({ take: fc.integer({ min: 0, max: 40 }) }),
      fc.record({ head: fc.integer({ min: 0, max: 60 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const pending = new PendingText();
        let model = '';
        let clock = 0;
        const writtenAt: number[] = [];
        for (const o of ops) {
          clock++;
          if ('write' in o) {
            pending.push(o.write, clock);
            model += o.write;
            for (let i = 0; i < o.write.length; i++) writtenAt.push(clock);
          } else if ('take' in o) {
            let units = Math.min(o.take, model.length);
            if (/[\uD800-\uDBFF]/.test(model.charAt(units - 1))) units--; // a cut never splits a pair
            pending.take(units, utf8Bytes(model.slice(0, units)));
            model = model.slice(units);
            writtenAt.splice(0, units);
          } else {
            expect(pending.head(o.head)).toBe(model.slice(0, o.head));
          }
          expect(pending.units).toBe(model.length);
          expect(pending.bytes).toBe(utf8Bytes(model));
          expect(pending.empty).toBe(model === '');
          expect(pending.oldestAt).toBe(writtenAt[0]);
        }
        expect(pending.all()).toBe(model);
      }),
    );
  });
});

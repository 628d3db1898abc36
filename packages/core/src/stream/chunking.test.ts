import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { utf8Bytes } from '../validation.js';
import { cleanPrefix, codePointPrefix, graphemePrefix, lastGraphemeStart } from './chunking.js';

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
const boundaries = (text: string) =>
  new Set([...segmenter.segment(text)].map((s) => s.index).concat(text.length));

/** Text of every kind: ASCII, CJK, emoji with modifiers and joiners, combining accents, line breaks. */
const text = fc
  .array(
    fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 8 }),
      fc.constantFrom('👩‍👩‍👧‍👦', '👍🏽', '🇫🇷', 'é', 'e\u0301', '字', '漢字', ' ', '\n', 'hello ', 'world. '),
    ),
    { maxLength: 40 },
  )
  .map((parts) => parts.join(''));

describe('graphemePrefix', () => {
  it('returns the longest prefix within the byte budget that ends on a grapheme boundary', () => {
    fc.assert(
      fc.property(text, fc.integer({ min: 0, max: 200 }), (t, max) => {
        const prefix = graphemePrefix(t, max);
        expect(t.startsWith(prefix)).toBe(true);
        expect(utf8Bytes(prefix)).toBeLessThanOrEqual(max);
        expect(boundaries(t).has(prefix.length)).toBe(true);
        // Longest: the next boundary would not fit.
        const next = [...boundaries(t)].filter((b) => b > prefix.length).sort((a, b) => a - b)[0];
        if (next !== undefined) expect(utf8Bytes(t.slice(0, next))).toBeGreaterThan(max);
      }),
    );
  });

  it('keeps a family emoji whole', () => {
    expect(graphemePrefix('ab👩‍👩‍👧‍👦', 10)).toBe('ab');
  });
});

describe('cleanPrefix', () => {
  it('fits the budget, ends on a grapheme boundary, and is never empty when a grapheme fits', () => {
    fc.assert(
      fc.property(text, fc.integer({ min: 1, max: 200 }), (t, max) => {
        const prefix = cleanPrefix(t, max);
        expect(t.startsWith(prefix)).toBe(true);
        expect(utf8Bytes(prefix)).toBeLessThanOrEqual(max);
        const fits = graphemePrefix(t, max);
        if (fits !== '') {
          expect(boundaries(t).has(prefix.length)).toBe(true);
          expect(prefix.length).toBeGreaterThan(0);
          expect(prefix.length).toBeGreaterThanOrEqual(fits.length / 2);
        }
      }),
    );
  });

  it('prefers a line break, then the end of a word', () => {
    expect(cleanPrefix('first line\nsecond line goes on', 20)).toBe('first line\n');
    expect(cleanPrefix('one two three four', 12)).toBe('one two ');
    expect(cleanPrefix('字字字字字字', 10)).toBe('字字字');
  });

  it('cuts between code points only when not one grapheme fits', () => {
    const zalgo = `a${'\u0301'.repeat(10)}`;
    expect(cleanPrefix(zalgo, 5)).toBe(codePointPrefix(zalgo, 5));
    expect(codePointPrefix('😀😀', 5)).toBe('😀');
  });
});

describe('lastGraphemeStart', () => {
  it('finds the start of the last grapheme, even far into a long text', () => {
    fc.assert(
      fc.property(text, (t) => {
        const start = lastGraphemeStart(t);
        const all = [...segmenter.segment(t)];
        expect(start).toBe(all.at(-1)?.index ?? 0);
      }),
    );
    expect(lastGraphemeStart(`${'x'.repeat(100)}👍🏽`)).toBe(100);
    expect(lastGraphemeStart(`${'x'.repeat(100)}a${'\u0301'.repeat(80)}`)).toBe(100);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { utf8Bytes } from '../validation.js';
import {
  cleanCut,
  cleanPrefix,
  codePointCut,
  graphemeCut,
  LOOKAHEAD_UNITS,
  lastGraphemeStart,
  MAX_CLUSTER_UNITS,
} from './chunking.js';

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
const boundaries = (text: string) =>
  new Set([...segmenter.segment(text)].map((s) => s.index).concat(text.length));

/** Text of every kind: ASCII, CJK, emoji with modifiers and joiners, combining accents, line breaks. */
const text = fc
  .array(
    fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 8 }),
      fc.constantFrom(
        '👩‍👩‍👧‍👦',
        '👍🏽',
        '🇫🇷',
        '🇫🇷🇩🇪',
        'é',
        'e\u0301',
        '字',
        '漢字',
        ' ',
        '\n',
        'hello ',
        'world. ',
      ),
    ),
    { maxLength: 40 },
  )
  .map((parts) => parts.join(''));

/** The window a caller passes: one chunk and the code point after it, cut from the head of `t`. */
const windowOf = (t: string, max: number) => t.slice(0, max + LOOKAHEAD_UNITS);

describe('codePointCut', () => {
  it('counts UTF-8 bytes as Buffer does and never splits a surrogate pair', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.integer({ min: 0, max: 60 }), (t, max) => {
        const cut = codePointCut(t, max);
        expect(cut.bytes).toBe(utf8Bytes(t.slice(0, cut.units)));
        expect(cut.bytes).toBeLessThanOrEqual(max);
        const code = t.charCodeAt(cut.units - 1);
        if (cut.units < t.length && code >= 0xd800 && code <= 0xdbff) {
          expect(t.charCodeAt(cut.units)).not.toSatisfy((c: number) => c >= 0xdc00 && c <= 0xdfff);
        }
      }),
    );
    expect(codePointCut('😀😀', 5)).toEqual({ units: 2, bytes: 4 });
  });
});

describe('graphemeCut', () => {
  it('returns the longest prefix within the budget that ends on a grapheme boundary of the whole text', () => {
    fc.assert(
      fc.property(text, fc.integer({ min: 4, max: 200 }), (t, max) => {
        const window = windowOf(t, max);
        const cut = graphemeCut(window, max, window.length === t.length);
        const prefix = t.slice(0, cut.units);
        expect(cut.bytes).toBe(utf8Bytes(prefix));
        expect(cut.bytes).toBeLessThanOrEqual(max);
        const all = [...boundaries(t)].sort((a, b) => a - b);
        const firstFits = utf8Bytes(t.slice(0, all[1] ?? 0)) <= max;
        if (firstFits) {
          expect(boundaries(t).has(cut.units)).toBe(true);
          const next = all.find((b) => b > cut.units);
          if (next !== undefined) expect(utf8Bytes(t.slice(0, next))).toBeGreaterThan(max);
        }
      }),
    );
  });

  it('keeps a family emoji and a flag whole', () => {
    expect(graphemeCut('ab👩‍👩‍👧‍👦', 10, true).units).toBe(2);
    expect(graphemeCut('🇫🇷🇩🇪x', 10, false).units).toBe(4);
  });

  it('cuts between code points only when one cluster is larger than the chunk', () => {
    const zalgo = `a${'\u0301'.repeat(40)}`;
    expect(graphemeCut(zalgo, 9, false)).toEqual({ units: 5, bytes: 9 });
  });
});

describe('cleanCut and cleanPrefix', () => {
  it('fit the budget, end on a grapheme boundary, and keep at least half of what fits', () => {
    fc.assert(
      fc.property(text, fc.integer({ min: 4, max: 200 }), (t, max) => {
        const prefix = cleanPrefix(t, max);
        expect(t.startsWith(prefix)).toBe(true);
        expect(utf8Bytes(prefix)).toBeLessThanOrEqual(max);
        const window = windowOf(t, max);
        const fits = graphemeCut(window, max, window.length === t.length);
        if (boundaries(t).has(fits.units) && fits.units > 0) {
          expect(boundaries(t).has(prefix.length)).toBe(true);
          expect(prefix.length).toBeGreaterThanOrEqual(fits.units / 2);
        }
        expect(cleanCut(window, max, window.length === t.length).units).toBe(prefix.length);
      }),
    );
  });

  it('prefers a line break, then a space or CJK punctuation', () => {
    expect(cleanPrefix('first line\nsecond line goes on', 20)).toBe('first line\n');
    expect(cleanPrefix('one two three four', 12)).toBe('one two ');
    expect(cleanPrefix('字字字。字字字字', 16)).toBe('字字字。');
    expect(cleanPrefix('字字字字字字', 10)).toBe('字字字');
  });

  it('reads one chunk of a long text, however long the text', () => {
    const long = 'word '.repeat(400_000);
    expect(cleanPrefix(long, 12)).toBe('word word ');
  });
});

describe('lastGraphemeStart', () => {
  it('finds the start of the last grapheme', () => {
    fc.assert(
      fc.property(text, (t) => {
        const all = [...segmenter.segment(t)];
        expect(lastGraphemeStart(t)).toBe(all.at(-1)?.index ?? 0);
      }),
    );
    expect(lastGraphemeStart(`${'x'.repeat(100)}👍🏽`)).toBe(100);
    expect(lastGraphemeStart(`${'x'.repeat(100)}a${'\u0301'.repeat(80)}`)).toBe(100);
  });

  it('holds back only the last code point of a cluster longer than MAX_CLUSTER_UNITS', () => {
    const t = `${'word '.repeat(13107)}e${'\u0301'.repeat(MAX_CLUSTER_UNITS + 10)}`;
    expect(lastGraphemeStart(t)).toBe(t.length - 1);
  });
});

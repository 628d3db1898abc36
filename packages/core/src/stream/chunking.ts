import { utf8Bytes } from '../validation.js';

/**
 * Where a stream's text may be cut. Chunks never split a UTF-8 character or a grapheme (an emoji
 * with its modifiers, a letter with its accents), so no chunk ever renders as a broken glyph.
 */

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
const words = new Intl.Segmenter(undefined, { granularity: 'word' });

/** Grapheme boundaries are local; this much context is enough for any real grapheme. */
const LOOKBACK = 64;

/** The longest prefix of `text`, cut between code points, that fits in `maxBytes` UTF-8 bytes. */
export function codePointPrefix(text: string, maxBytes: number): string {
  let bytes = 0;
  let end = 0;
  for (const char of text) {
    const size = utf8Bytes(char);
    if (bytes + size > maxBytes) break;
    bytes += size;
    end += char.length;
  }
  return text.slice(0, end);
}

/**
 * The longest prefix of `text` that ends on a grapheme boundary and fits in `maxBytes` UTF-8 bytes.
 * Empty when even the first grapheme is too large.
 */
export function graphemePrefix(text: string, maxBytes: number): string {
  if (utf8Bytes(text) <= maxBytes) return text;
  let bytes = 0;
  let end = 0;
  for (const { segment } of graphemes.segment(text)) {
    const size = utf8Bytes(segment);
    if (bytes + size > maxBytes) break;
    bytes += size;
    end += segment.length;
  }
  return text.slice(0, end);
}

/**
 * A prefix that fits in `maxBytes` and ends at a clean place to end a message: after a line break
 * if one lies in the second half of what fits, else after a word, else on a grapheme boundary.
 * When not even one grapheme fits (a pathological one longer than `maxBytes`), it is cut between
 * code points, the only way left to make progress.
 */
export function cleanPrefix(text: string, maxBytes: number): string {
  const fits = graphemePrefix(text, maxBytes);
  if (fits === text) return text;
  if (fits === '') return codePointPrefix(text, maxBytes);
  const half = fits.length / 2;
  const newline = fits.lastIndexOf('\n');
  if (newline + 1 >= half) return fits.slice(0, newline + 1);
  let wordEnd = 0;
  for (const { index, segment, isWordLike } of words.segment(fits)) {
    // A boundary is clean after a word only when the text goes on past it (the last segment may be cut).
    if (!isWordLike && index + segment.length < fits.length) wordEnd = index + segment.length;
  }
  return wordEnd >= half ? fits.slice(0, wordEnd) : fits;
}

/** Where the last grapheme of `text` starts (0 for a single grapheme or an empty string). */
export function lastGraphemeStart(text: string): number {
  const from = Math.max(0, text.length - LOOKBACK);
  let start = -1;
  for (const { index } of graphemes.segment(text.slice(from))) start = index;
  // A grapheme longer than the lookback: segment the whole text to find its true start.
  if (start <= 0 && from > 0) {
    for (const { index } of graphemes.segment(text)) start = index;
    return start;
  }
  return from + Math.max(0, start);
}

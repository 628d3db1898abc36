/**
 * Where a stream's text may be cut. Chunks never split a UTF-8 character or a grapheme (an emoji
 * with its modifiers, a letter with its accents), so no chunk ever renders as a broken glyph.
 *
 * Every function here costs time in proportion to the chunk it cuts, never to the text it is cut
 * from: bytes are counted with a plain loop, and the segmenter is only asked `containing(i)` on a
 * window one chunk long. (Iterating a segmenter costs more than linear time in V8: 4 KB of text takes
 * milliseconds, 1 MB takes seconds. `containing()` on a bounded window takes microseconds.)
 */

import { utf8Bytes } from '../validation.js';

/** Made on first use: loading the segmenter's data costs about 10 ms, on import it would cost every app. */
let segmenter: Intl.Segmenter | undefined;
function graphemes(): Intl.Segmenter {
  segmenter ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  return segmenter;
}

/**
 * How far past a cut the text must reach for the cut to be judged: a grapheme boundary at `i`
 * depends on the code points before `i` and the one at `i`, so a window must hold the code point
 * after the cut (two UTF-16 units for a surrogate pair).
 */
export const LOOKAHEAD_UNITS = 2;

/**
 * Clusters longer than this (in UTF-16 units) are not graphemes anyone types: hundreds of stacked
 * combining marks. The last grapheme of a text is looked for only this far back; past it, the text
 * is cut between code points, the only way to make progress without reading the whole cluster.
 */
export const MAX_CLUSTER_UNITS = 256;

/** A prefix length in UTF-16 units and its size in UTF-8 bytes. */
export interface Cut {
  units: number;
  bytes: number;
}

/** The longest prefix of `text`, cut between code points, that fits in `maxBytes` UTF-8 bytes. */
export function codePointCut(text: string, maxBytes: number): Cut {
  let bytes = 0;
  let i = 0;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    let size: number;
    let units = 1;
    if (code < 0x80) size = 1;
    else if (code < 0x800) size = 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        size = 4;
        units = 2;
      } else size = 3;
    } else size = 3;
    if (bytes + size > maxBytes) break;
    bytes += size;
    i += units;
  }
  return { units: i, bytes };
}

/**
 * The longest prefix of `window` that ends on a grapheme boundary and fits in `maxBytes`.
 * `window` is the head of a longer text, starting on a grapheme boundary; `endIsBoundary` says
 * whether its end is one too (the text ends there for good). When no grapheme boundary fits (a
 * cluster larger than `maxBytes`), the cut falls between code points.
 */
export function graphemeCut(window: string, maxBytes: number, endIsBoundary: boolean): Cut {
  const fits = codePointCut(window, maxBytes);
  if (fits.units === 0) return fits;
  if (fits.units === window.length && endIsBoundary) return fits;
  const segments = graphemes().segment(window);
  // The end of the window, unconfirmed, is never a boundary: look at the cluster before it.
  const at = fits.units === window.length ? fits.units - 1 : fits.units;
  const start = segments.containing(at)?.index ?? 0;
  if (start === fits.units) return fits;
  if (start === 0) return fits; // one cluster larger than the chunk: cut it between code points
  return { units: start, bytes: fits.bytes - utf8Bytes(window.slice(start, fits.units)) };
}

const CLEAN_ENDINGS = new Set([' ', '\t', '\n', '\u3000', '。', '，', '、', '！', '？', '；', '：']);

/**
 * A prefix that fits in `maxBytes` and ends at a clean place to end a message: after a line break
 * in the second half of what fits, else after a space or CJK punctuation there, else on a grapheme
 * boundary.
 */
export function cleanCut(window: string, maxBytes: number, endIsBoundary: boolean): Cut {
  const fits = graphemeCut(window, maxBytes, endIsBoundary);
  if (fits.units === window.length && endIsBoundary) return fits;
  const half = fits.units / 2;
  const text = window.slice(0, fits.units);
  let end = text.lastIndexOf('\n') + 1;
  if (end < half) {
    end = 0;
    for (let i = text.length - 1; i >= half; i--) {
      if (CLEAN_ENDINGS.has(text[i] as string)) {
        end = i + 1;
        break;
      }
    }
  }
  if (end < half || end === 0) return fits;
  return { units: end, bytes: fits.bytes - utf8Bytes(text.slice(end)) };
}

/**
 * Where the last grapheme of `text` starts (0 for a single grapheme or an empty string), looked
 * for in the last `MAX_CLUSTER_UNITS` only; a longer final cluster is held back from its last code
 * point on.
 */
export function lastGraphemeStart(text: string): number {
  if (text.length === 0) return 0;
  const from = Math.max(0, text.length - MAX_CLUSTER_UNITS);
  const tail = text.slice(from);
  const start =
    graphemes()
      .segment(tail)
      .containing(tail.length - 1)?.index ?? 0;
  if (start > 0 || from === 0) return from + start;
  // The last cluster reaches past the window: hold back its last code point only.
  const last = text.charCodeAt(text.length - 1);
  return text.length - (last >= 0xdc00 && last <= 0xdfff && text.length > 1 ? 2 : 1);
}

/**
 * The longest prefix of `text` that fits in `maxBytes` and ends cleanly (see `cleanCut`), reading
 * only one chunk's worth of `text`.
 */
export function cleanPrefix(text: string, maxBytes: number): string {
  const windowUnits = maxBytes + LOOKAHEAD_UNITS;
  const window = text.length > windowUnits ? text.slice(0, windowUnits) : text;
  return text.slice(0, cleanCut(window, maxBytes, window.length === text.length).units);
}

import { type Cut, cleanCut, graphemeCut, LOOKAHEAD_UNITS, lastGraphemeStart } from './chunking.js';

/**
 * How the next call is chosen: `stream` while text keeps coming; `closing` once no more will come
 * (or the message must close now); `recovering` for the one call that closes a message after a
 * failure, carrying the chunk that failed.
 */
export type PlanMode = 'stream' | 'closing' | 'recovering';

/** The fixed sizes a plan works within. */
export interface PlanLimits {
  /** Most UTF-8 bytes one message may grow to. */
  maxMessageBytes: number;
  /** Most UTF-8 bytes one call carries. */
  maxChunkBytes: number;
  /** Room kept free in a message so that the call that closes it always has text to carry. */
  reserveBytes: number;
  /** Whether the closing call may carry an empty chunk. */
  emptyFinalChunk: boolean;
}

export interface PlanInput {
  mode: PlanMode;
  /** The head of the pending text: `planWindowUnits(limits)` UTF-16 units of it, or all of it. */
  window: string;
  /** Whether `window` is all the pending text. */
  whole: boolean;
  /** UTF-8 bytes pending in all. */
  pendingBytes: number;
  /** Whether a message is open (its first call was delivered and its closing one was not). */
  messageOpen: boolean;
  /** UTF-8 bytes the open message holds already. */
  messageBytes: number;
  limits: PlanLimits;
}

/** One call: the first `units` UTF-16 units of the pending text, `bytes` long, closing the message or not. */
export interface PlannedCall {
  chunk: string;
  units: number;
  bytes: number;
  final: boolean;
}

/** How much of the pending text a plan needs to see: one chunk and the code point after it. */
export function planWindowUnits(limits: PlanLimits): number {
  return limits.maxChunkBytes + LOOKAHEAD_UNITS;
}

function call(text: string, cut: Cut, final: boolean): PlannedCall {
  return { chunk: text.slice(0, cut.units), units: cut.units, bytes: cut.bytes, final };
}

/**
 * The next call of a stream session, or undefined when there is nothing to send yet. Pure: the
 * session's state goes in, one decision comes out, and it costs time in proportion to one chunk.
 *
 * While text keeps coming, the last grapheme waits (text written later may extend it, and a cloud
 * that needs text on the closing call gets it from there), and a reserve is kept in the message.
 * Text that would outgrow the message closes it at a clean boundary; the rest opens the next one.
 */
export function planCall(input: PlanInput): PlannedCall | undefined {
  const { mode, whole, limits } = input;
  const closing = mode !== 'stream';
  const text = whole && !closing ? input.window.slice(0, lastGraphemeStart(input.window)) : input.window;
  if (text === '') {
    return closing && input.messageOpen && limits.emptyFinalChunk
      ? { chunk: '', units: 0, bytes: 0, final: true }
      : undefined;
  }
  const room = limits.maxMessageBytes - input.messageBytes;
  const limit = Math.min(room, limits.maxChunkBytes);
  if (whole && closing) {
    const bytes = input.pendingBytes;
    if (bytes <= limit) return { chunk: text, units: text.length, bytes, final: true };
  }
  if (mode === 'recovering') return call(text, cleanCut(text, limit, whole), true);
  const fitsAll = input.pendingBytes <= room - (closing ? 0 : limits.reserveBytes);
  if (fitsAll || room - limits.reserveBytes >= limits.maxChunkBytes) {
    const cut = graphemeCut(text, limits.maxChunkBytes, whole);
    return cut.units > 0 ? call(text, cut, false) : undefined;
  }
  return call(text, cleanCut(text, limit, whole), true);
}

/** A plain message planned after streaming failed: its text, and how much of the pending text it takes. */
export interface PlannedPlain {
  text: string;
  units: number;
  bytes: number;
}

/**
 * The next plain message once streaming has failed: a message's worth (`maxBytes`) cut at a clean
 * place whenever that much waits, and the rest once no more text will come (`ended`). `head(units)`
 * reads the pending text; undefined when nothing is to go yet.
 */
export function planPlain(
  pending: { readonly bytes: number; readonly units: number; head(units: number): string },
  maxBytes: number,
  ended: boolean,
): PlannedPlain | undefined {
  if (pending.units === 0 || (!ended && pending.bytes < maxBytes)) return undefined;
  const window = pending.head(maxBytes + LOOKAHEAD_UNITS);
  const cut = cleanCut(window, maxBytes, ended && window.length === pending.units);
  return { text: window.slice(0, cut.units), units: cut.units, bytes: cut.bytes };
}

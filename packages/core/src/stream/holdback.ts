import { advanceMarkdown, type MarkdownCursor, markdownSafeEnd, START_OF_MARKDOWN } from './markdown.js';
import type { PlannedCall } from './plan.js';

/**
 * The markdown holdback of one session: a chunk does not end inside a markdown construct that renders
 * broken until it closes (a table row, a link, an inline code span, a fence's opening line). What
 * would end there waits for its closing text, within the bounds: past `maxHoldChars` characters or
 * `maxHoldMs` the chunk goes as planned. A timer wakes the session at the time bound.
 */
export class MarkdownHoldback {
  readonly #bounds: { maxHoldChars: number; maxHoldMs: number };
  readonly #now: () => number;
  readonly #wake: () => void;
  /** What the delivered text leaves open. */
  #cursor: MarkdownCursor = START_OF_MARKDOWN;
  #timer: NodeJS.Timeout | undefined;

  constructor(bounds: { maxHoldChars: number; maxHoldMs: number }, now: () => number, wake: () => void) {
    this.#bounds = bounds;
    this.#now = now;
    this.#wake = wake;
  }

  /**
   * `plan` shortened so that its chunk ends where the markdown is whole; the rest waits. Undefined
   * when all of it waits: the timer wakes the session at the bound. `heldSince` is when the oldest
   * pending text was written.
   */
  hold(plan: PlannedCall, heldSince: number): PlannedCall | undefined {
    const safe = markdownSafeEnd(plan.chunk, this.#cursor);
    if (safe === plan.units) return plan;
    const now = this.#now();
    const releaseAt = heldSince + this.#bounds.maxHoldMs;
    if (plan.units - safe > this.#bounds.maxHoldChars || now >= releaseAt) return plan;
    this.#timer ??= setTimeout(
      () => {
        this.#timer = undefined;
        this.#wake();
      },
      Math.ceil(releaseAt - now),
    );
    if (safe === 0) return undefined;
    const chunk = plan.chunk.slice(0, safe);
    return { chunk, units: safe, bytes: Buffer.byteLength(chunk), final: false };
  }

  /** `text` was delivered: what it leaves open is what the next chunk continues. */
  delivered(text: string): void {
    this.#cursor = advanceMarkdown(this.#cursor, text);
  }

  /** Stops the timer: the session finished. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

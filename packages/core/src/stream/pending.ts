import { Queue } from '../queue.js';
import { utf8Bytes } from '../validation.js';

interface Piece {
  text: string;
  /** When it was written: the latency of a chunk is measured from its oldest piece. */
  at: number;
}

/**
 * Text written to a stream session and not yet taken, as the pieces it was written in. Sizes are
 * kept as they change, and the head is read one window at a time, so no operation costs more than
 * the text it writes or takes, whatever the backlog.
 */
export class PendingText {
  readonly #pieces = new Queue<Piece>();
  /** UTF-16 units of the head piece already taken. */
  #offset = 0;
  #units = 0;
  #bytes = 0;
  #ended = false;

  /** Whether the writer has said no more text comes (`end()`): what waits is the last of it. */
  get ended(): boolean {
    return this.#ended;
  }

  /** No more text comes. */
  end(): void {
    this.#ended = true;
  }

  /** UTF-8 bytes waiting. */
  get bytes(): number {
    return this.#bytes;
  }

  /** UTF-16 units waiting. */
  get units(): number {
    return this.#units;
  }

  get empty(): boolean {
    return this.#units === 0;
  }

  /** When the oldest waiting text was written; undefined when nothing waits. */
  get oldestAt(): number | undefined {
    return this.#pieces.peek()?.at;
  }

  push(text: string, at: number): void {
    if (text === '') return;
    this.#pieces.push({ text, at });
    this.#units += text.length;
    this.#bytes += utf8Bytes(text);
  }

  /** The first `units` UTF-16 units waiting (all of it, if less waits). */
  head(units: number): string {
    const first = this.#pieces.peek();
    if (!first) return '';
    const end = this.#offset + units;
    if (end <= first.text.length) return first.text.slice(this.#offset, end);
    const parts = [first.text.slice(this.#offset)];
    let length = first.text.length - this.#offset;
    for (let i = 1; length < units; i++) {
      const piece = this.#pieces.at(i);
      if (!piece) break;
      const part = length + piece.text.length > units ? piece.text.slice(0, units - length) : piece.text;
      parts.push(part);
      length += part.length;
    }
    return parts.join('');
  }

  /** Removes the first `units` UTF-16 units, which the caller measured as `bytes` UTF-8 bytes. */
  take(units: number, bytes: number): void {
    let left = units;
    while (left > 0) {
      const piece = this.#pieces.peek();
      if (!piece) break;
      const rest = piece.text.length - this.#offset;
      if (left < rest) {
        this.#offset += left;
        break;
      }
      left -= rest;
      this.#pieces.shift();
      this.#offset = 0;
    }
    this.#units -= units;
    this.#bytes -= bytes;
  }

  /** Everything waiting, as one string (for the finish report; not for the hot path). */
  all(): string {
    return this.head(this.#units);
  }
}

/** One second of a cloud's traffic, as the console's live chart draws it. */
export interface TrafficSecond {
  /** The second, in milliseconds since the epoch (a multiple of 1000). */
  at: number;
  /** Calls accepted per API in that second. */
  calls: Record<string, number>;
  /** Calls refused for going over the frequency limit. */
  refused: number;
  /** The longest wait between two pieces of a streaming message that grew in that second (ms). */
  streamGapMs: number | null;
}

/** What `GET /_emulator/<cloud>/traffic` answers: the last minute, oldest second first. */
export interface TrafficView {
  /** Calls per second each API may make: the budget line. */
  limitPerSecond: number;
  seconds: TrafficSecond[];
}

const SECONDS = 60;

/**
 * A cloud's traffic over the last minute, second by second: calls per API, refusals, and how long
 * streaming messages waited between pieces. Fixed memory (60 seconds), constant work per call.
 */
export class Traffic {
  readonly #limitPerSecond: number;
  readonly #seconds: TrafficSecond[] = [];

  constructor(limitPerSecond: number) {
    this.#limitPerSecond = limitPerSecond;
  }

  /** A call of `api` reached the cloud at `now` (ms since the epoch); `accepted` unless over the limit. */
  call(api: string, accepted: boolean, now: number): void {
    const second = this.#second(now);
    if (accepted) second.calls[api] = (second.calls[api] ?? 0) + 1;
    else second.refused++;
  }

  /** A streaming message grew at `now`, `gapMs` after its previous piece. */
  streamGap(gapMs: number, now: number): void {
    const second = this.#second(now);
    second.streamGapMs = Math.max(second.streamGapMs ?? 0, gapMs);
  }

  /** The last minute up to `now`, with empty seconds filled in. */
  view(now: number): TrafficView {
    const last = Math.floor(now / 1000) * 1000;
    const byAt = new Map(this.#seconds.map((s) => [s.at, s]));
    const seconds: TrafficSecond[] = [];
    for (let at = last - (SECONDS - 1) * 1000; at <= last; at += 1000) {
      const second = byAt.get(at);
      seconds.push(
        second ? { ...second, calls: { ...second.calls } } : { at, calls: {}, refused: 0, streamGapMs: null },
      );
    }
    return { limitPerSecond: this.#limitPerSecond, seconds };
  }

  clear(): void {
    this.#seconds.length = 0;
  }

  #second(now: number): TrafficSecond {
    const at = Math.floor(now / 1000) * 1000;
    const latest = this.#seconds.at(-1);
    if (latest && latest.at >= at) {
      // The clock may step back a little: such a call counts in the latest second.
      return latest;
    }
    const second: TrafficSecond = { at, calls: {}, refused: 0, streamGapMs: null };
    this.#seconds.push(second);
    if (this.#seconds.length > SECONDS) this.#seconds.shift();
    return second;
  }
}

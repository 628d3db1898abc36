/**
 * A timer for a due time that keeps moving later (an idle limit renewed by every write): moving it
 * only records the new time, and the one timer running checks, when it fires, whether the time has
 * really come. Thousands of writes cost no timer churn.
 */
export class DueTimer {
  readonly #now: () => number;
  readonly #run: () => void;
  #timer: NodeJS.Timeout | undefined;
  #firesAt = Number.POSITIVE_INFINITY;
  #dueAt = Number.POSITIVE_INFINITY;

  constructor(now: () => number, run: () => void) {
    this.#now = now;
    this.#run = run;
  }

  /** Runs the callback at `at` instead of any earlier due time. */
  set(at: number): void {
    this.#dueAt = at;
    // The running timer fires in time: it will see the new due time then.
    if (this.#timer !== undefined && this.#firesAt <= at) return;
    clearTimeout(this.#timer);
    this.#arm();
  }

  clear(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#firesAt = Number.POSITIVE_INFINITY;
    this.#dueAt = Number.POSITIVE_INFINITY;
  }

  #arm(): void {
    const now = this.#now();
    this.#firesAt = this.#dueAt;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.#firesAt = Number.POSITIVE_INFINITY;
        if (this.#dueAt === Number.POSITIVE_INFINITY) return;
        if (this.#now() < this.#dueAt) return this.#arm();
        this.#dueAt = Number.POSITIVE_INFINITY;
        this.#run();
      },
      Math.max(0, Math.ceil(this.#dueAt - now)),
    );
  }
}

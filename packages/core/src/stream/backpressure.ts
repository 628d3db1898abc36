/**
 * A writer told to wait (`write()` returned false) until the session's pending text falls below its
 * high-water mark: one promise per wait, shared by every waiter, resolved at `'drain'`.
 */
export class Backpressure {
  #drained: { promise: Promise<void>; resolve: () => void } | undefined;

  /** Whether a writer was told to wait and has not been let go yet. */
  get holding(): boolean {
    return this.#drained !== undefined;
  }

  /** Tells the writer to wait, if it was not told already. */
  hold(): void {
    if (this.#drained) return;
    let resolve!: () => void;
    const promise = new Promise<void>((r) => {
      resolve = r;
    });
    this.#drained = { promise, resolve };
  }

  /** Resolves when the writer may write again (at once if it need not wait). */
  wait(): Promise<void> {
    return this.#drained?.promise ?? Promise.resolve();
  }

  /** Lets a waiting writer go on; true if one was waiting. */
  release(): boolean {
    const drained = this.#drained;
    this.#drained = undefined;
    drained?.resolve();
    return drained !== undefined;
  }
}

import { ApiError, NetworkError, TimeoutError } from '../errors.js';

/** Network errors, timeouts and 5xx mean the domain (or what is in front of it) is failing. */
export function failsOver(error: unknown): boolean {
  if (error instanceof NetworkError || error instanceof TimeoutError) return true;
  return error instanceof ApiError && (error.status ?? 0) >= 500;
}

/**
 * A data centre's domains, primary first, as both clouds publish them (the backup exists for
 * networks where the primary name is hijacked or down). Requests go to the current one; a request
 * that fails as a failing domain would moves later requests to the next, where they stay until it
 * fails in turn. Whether the failed request is sent again is the retry policy's call, under the same
 * unknown-outcome rules as on one domain.
 */
export class Origins {
  readonly #bases: readonly string[];
  #current = 0;

  /** `bases`: base URLs (origin and path prefix), primary first; trailing slashes are dropped. */
  constructor(bases: readonly string[]) {
    this.#bases = bases.map((b) => b.replace(/\/+$/, ''));
  }

  /** Which domain requests go to now, to give back to `failed()`. */
  get current(): number {
    return this.#current;
  }

  /** The base URL of domain `index`. */
  base(index: number): string {
    return this.#bases[index] as string;
  }

  /** A request to domain `index` failed with `error`: move on if the domain looks at fault. */
  failed(index: number, error: unknown): void {
    if (failsOver(error) && index === this.#current && this.#bases.length > 1) {
      this.#current = (this.#current + 1) % this.#bases.length;
    }
  }
}

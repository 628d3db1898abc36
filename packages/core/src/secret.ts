import * as z from 'zod';
import { ValidationError } from './errors.js';

/**
 * A secret as the app gives it (secret key, callback token, App Secret): its value, or a function,
 * sync or async, that returns the value in force, asked again on every use. A function lets an app
 * rotate a secret without a restart, or keep it in a vault.
 */
export type Secret = string | (() => string | Promise<string>);

/** A `Secret` option: a non-empty string or a function. */
export const secretOption = z.union([
  z.string().min(1, 'must not be empty'),
  z.custom<() => string | Promise<string>>((v) => typeof v === 'function', 'must be a string or a function'),
]);

/** Values a function secret returned that are still remembered, for redaction. */
const REMEMBERED = 8;

/**
 * One secret of a client: resolved where it is used (synchronously for a plain value, so the usual
 * call costs no promise), with the values it has had remembered for redaction. Never logged: its
 * fields are private, so `console.log` of the object that holds it shows none.
 */
export class SecretSource {
  readonly #secret: Secret;
  readonly #name: string;
  readonly #seen: string[] = [];

  constructor(secret: Secret, name: string) {
    this.#secret = secret;
    this.#name = name;
    if (typeof secret === 'string') this.#seen.push(secret);
  }

  /** Whether the secret is a function, asked on each use. */
  get asked(): boolean {
    return typeof this.#secret === 'function';
  }

  /** The value in force: a string for a plain value, else what the function gives. */
  resolve(): string | Promise<string> {
    const secret = this.#secret;
    if (typeof secret === 'string') return secret;
    const value = secret();
    return typeof value === 'string' ? this.#kept(value) : value.then((v) => this.#kept(v));
  }

  /** Every value this secret has had lately: what redaction takes out of any text. */
  get known(): readonly string[] {
    return this.#seen;
  }

  #kept(value: unknown): string {
    if (typeof value !== 'string' || value === '') {
      throw new ValidationError(
        this.#name,
        `${this.#name}: the function returned no secret (an empty or non-string value)`,
      );
    }
    if (!this.#seen.includes(value)) {
      this.#seen.push(value);
      if (this.#seen.length > REMEMBERED) this.#seen.shift();
    }
    return value;
  }
}

/** `use(value)` of a secret's value, synchronously when the value is at hand. */
export function withSecret<T>(source: SecretSource, use: (value: string) => T): T | Promise<T> {
  const value = source.resolve();
  return typeof value === 'string' ? use(value) : value.then(use);
}

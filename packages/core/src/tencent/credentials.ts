import { redactSecrets } from '../redact.js';
import { decodeUserSig, genUserSig } from './usersig.js';

export type UserSigSource =
  | { secretKey: string; sdkAppId: number; admin: string; ttlSeconds: number }
  | { userSig: () => string | Promise<string> };

/** A UserSig is renewed once this share of its life has passed, well before the cloud refuses it. */
const RENEW_AT = 0.8;
/** Recent UserSigs are remembered so that errors raised while one was in use can still be redacted. */
const REMEMBERED = 4;

/**
 * The admin UserSig a client signs its requests with: made once, reused, renewed at 80 % of its life
 * or as soon as the cloud says it expired (70001). Also the list of secrets to redact.
 */
export class AdminUserSig {
  readonly #source: UserSigSource;
  readonly #now: () => number;
  #current: { userSig: string; renewAt: number } | undefined;
  #pending: Promise<string> | undefined;
  readonly #issued: string[] = [];

  constructor(source: UserSigSource, now: () => number = Date.now) {
    this.#source = source;
    this.#now = now;
  }

  /** The UserSig to use now, when one is made and fresh: no promise on the hot path. */
  get fresh(): string | undefined {
    const current = this.#current;
    return current && this.#now() < current.renewAt ? current.userSig : undefined;
  }

  /** The UserSig to use now. */
  get(): Promise<string> {
    const current = this.#current;
    if (current && this.#now() < current.renewAt) return Promise.resolve(current.userSig);
    this.#pending ??= this.#make().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  /** Forgets the current UserSig, so that the next `get()` makes a new one. */
  invalidate(): void {
    this.#current = undefined;
  }

  /** Removes every secret this credential knows of from `text`. */
  redact = (text: string): string =>
    redactSecrets(text, ['secretKey' in this.#source ? this.#source.secretKey : undefined, ...this.#issued]);

  async #make(): Promise<string> {
    const now = this.#now();
    let userSig: string;
    let lifetimeMs: number;
    if ('secretKey' in this.#source) {
      const { secretKey, sdkAppId, admin, ttlSeconds } = this.#source;
      userSig = genUserSig({ sdkAppId, secretKey, userId: admin, expireSeconds: ttlSeconds, now });
      lifetimeMs = ttlSeconds * 1000;
    } else {
      userSig = await this.#source.userSig();
      lifetimeMs = lifetimeOf(userSig, now);
    }
    this.#issued.push(userSig);
    if (this.#issued.length > REMEMBERED) this.#issued.shift();
    this.#current = { userSig, renewAt: now + lifetimeMs * RENEW_AT };
    return userSig;
  }
}

/** How long a UserSig handed in by the app has left; unknown ones are asked for again in a minute. */
function lifetimeOf(userSig: string, now: number): number {
  try {
    return Math.max(0, decodeUserSig(userSig).expiresAt - now);
  } catch {
    return 60_000;
  }
}

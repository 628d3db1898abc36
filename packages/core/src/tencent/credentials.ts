import { redactSecrets } from '../redact.js';
import type { SecretSource } from '../secret.js';
import { decodeUserSig, genUserSig } from './usersig.js';

export type UserSigSource =
  | { secretKey: SecretSource; sdkAppId: number; admin: string; ttlSeconds: number }
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
  #current: { userSig: string; renewAt: number; secretKey?: string } | undefined;
  #pending: Promise<string> | undefined;
  readonly #issued: string[] = [];

  constructor(source: UserSigSource, now: () => number = Date.now) {
    this.#source = source;
    this.#now = now;
  }

  /**
   * The UserSig to use now, when one is made and fresh: no promise on the hot path. A secret key
   * given as a function is asked on each call, so there is none to hand at once.
   */
  get fresh(): string | undefined {
    const current = this.#current;
    if ('secretKey' in this.#source && this.#source.secretKey.asked) return undefined;
    return current && this.#now() < current.renewAt ? current.userSig : undefined;
  }

  /** The UserSig to use now: made again once its renewal time is near, or the secret key changed. */
  async get(): Promise<string> {
    const current = this.#current;
    const secretKey = 'secretKey' in this.#source ? await this.#source.secretKey.resolve() : undefined;
    if (current && this.#now() < current.renewAt && current.secretKey === secretKey) return current.userSig;
    this.#pending ??= this.#make(secretKey).finally(() => {
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
    redactSecrets(
      text,
      ['secretKey' in this.#source ? this.#source.secretKey.known : [], this.#issued].flat(),
    );

  async #make(secretKey: string | undefined): Promise<string> {
    const now = this.#now();
    let userSig: string;
    let lifetimeMs: number;
    if ('secretKey' in this.#source && secretKey !== undefined) {
      const { sdkAppId, admin, ttlSeconds } = this.#source;
      userSig = genUserSig({ sdkAppId, secretKey, userId: admin, expireSeconds: ttlSeconds, now });
      lifetimeMs = ttlSeconds * 1000;
    } else {
      userSig = await (this.#source as { userSig: () => string | Promise<string> }).userSig();
      lifetimeMs = lifetimeOf(userSig, now);
    }
    this.#issued.push(userSig);
    if (this.#issued.length > REMEMBERED) this.#issued.shift();
    this.#current = {
      userSig,
      renewAt: now + lifetimeMs * RENEW_AT,
      ...(secretKey !== undefined ? { secretKey } : {}),
    };
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

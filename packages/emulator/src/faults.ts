import * as z from 'zod';
import { seededRandom } from './random.js';

/**
 * One way a call can go wrong:
 * - `internal-error`: the cloud refuses it with its own internal error, worth retrying (Tencent's
 *   10002, RongCloud's 1000), nothing applied; the default;
 * - `{ errorCode, errorInfo? }`: the cloud refuses it with that code, nothing applied; `{query}` in
 *   `errorInfo` becomes the request's query string and `{headers}` its headers as JSON, to play a
 *   cloud that quotes credentials back;
 * - `http-502`: a gateway error, nothing applied;
 * - `reset-before`: the connection drops before the call is applied;
 * - `reset-after`: the call is applied, then the connection drops (the ambiguous case);
 * - `malformed`: HTTP 200 with a body that is not JSON, nothing applied;
 * - `hang`: no answer at all, until the client gives up.
 */
export const faultKind = z.union([
  z.object({ errorCode: z.number().int(), errorInfo: z.string().optional() }),
  z.enum(['internal-error', 'http-502', 'reset-before', 'reset-after', 'malformed', 'hang']),
]);
export type FaultKind = z.infer<typeof faultKind>;

const rate = z.number().min(0).max(1);

/** Random faults, each a probability per call; drawn from a seeded generator so a run replays. */
export const faultConfig = z.strictObject({
  seed: z.number().int().optional(),
  /** Probability of the cloud's internal error (Tencent 10002, RongCloud 1000: retry). */
  errorRate: rate.optional(),
  /** Probability of HTTP 502. */
  http502Rate: rate.optional(),
  /** Probability of a dropped connection before the call is applied. */
  resetBeforeRate: rate.optional(),
  /** Probability of a dropped connection after the call is applied. */
  resetAfterRate: rate.optional(),
  /** Added latency per call, in ms, plus a uniform jitter of up to `jitterMs`. */
  latencyMs: z.number().min(0).optional(),
  jitterMs: z.number().min(0).optional(),
  /**
   * Where the latency is spent: `before` the call is applied (and counted in its rate window, as
   * a slow request), `after` it (a slow answer), or `split` half and half. Default `after`.
   */
  latencySplit: z.enum(['before', 'after', 'split']).optional(),
  /** Only these APIs (`service/command`) get random faults; all when absent. */
  apis: z.array(z.string()).optional(),
});
export type FaultConfig = z.infer<typeof faultConfig>;

/** What to do to one call: which fault, if any. */
export interface FaultPlan {
  fault: FaultKind | undefined;
}

/** How long one call's request and its answer take on the way. */
export interface Latency {
  beforeMs: number;
  afterMs: number;
}

/** The share of a call's latency spent before it is applied. */
const BEFORE_SHARE = { before: 1, after: 0, split: 0.5 } as const;

/**
 * Decides, call by call, whether a fault strikes. Scheduled faults (`failNext`) come first, in order;
 * then the random ones. With a seed, a sequential run draws the same faults every time.
 */
export class Faults {
  #config: FaultConfig = {};
  #random: () => number = Math.random;
  readonly #scheduled = new Map<string, { kind: FaultKind; left: number }[]>();

  constructor(config: FaultConfig = {}, seed?: number) {
    this.configure({ ...config, seed: config.seed ?? seed });
  }

  /** Replaces the random fault settings (and reseeds when `seed` is given). */
  configure(config: FaultConfig): void {
    this.#config = faultConfig.parse(config);
    this.#random = this.#config.seed === undefined ? Math.random : seededRandom(this.#config.seed);
  }

  get config(): FaultConfig {
    return this.#config;
  }

  /** Makes the next `count` calls of `api` fail with `kind`. */
  failNext(api: string, count: number, kind: FaultKind = 'internal-error'): void {
    const queue = this.#scheduled.get(api) ?? [];
    queue.push({ kind: faultKind.parse(kind), left: count });
    this.#scheduled.set(api, queue);
  }

  /** Forgets every fault. */
  clear(): void {
    this.#scheduled.clear();
    this.configure({});
  }

  /** The latency of the next call: drawn once, then spent on the way in and the way back. */
  latency(): Latency {
    const c = this.#config;
    const jitter = c.jitterMs ?? 0;
    const total = (c.latencyMs ?? 0) + (jitter > 0 ? this.#random() * jitter : 0);
    const beforeMs = total * BEFORE_SHARE[c.latencySplit ?? 'after'];
    return { beforeMs, afterMs: total - beforeMs };
  }

  /** The fault for the next call of `api`, drawn when the cloud applies it. */
  plan(api: string): FaultPlan {
    const c = this.#config;
    const queue = this.#scheduled.get(api);
    const next = queue?.[0];
    if (queue && next) {
      if (--next.left <= 0) queue.shift();
      return { fault: next.kind };
    }
    if (c.apis && !c.apis.includes(api)) return { fault: undefined };
    const draws: [number | undefined, FaultKind][] = [
      [c.errorRate, 'internal-error'],
      [c.http502Rate, 'http-502'],
      [c.resetBeforeRate, 'reset-before'],
      [c.resetAfterRate, 'reset-after'],
    ];
    for (const [probability, kind] of draws) {
      if (probability && this.#random() < probability) return { fault: kind };
    }
    return { fault: undefined };
  }
}

import type { z } from 'zod';
import { abortedError } from '../errors.js';
import type { BudgetCharge, RateLimitPermit } from '../limits/rate-limiter.js';
import type { TurnPermit } from '../limits/turn-permit.js';
import { type ClientTelemetry, outcomeOf } from '../observe/telemetry.js';
import { Origins } from './origins.js';
import { type RetryDecision, type RetryMode, type RetryPolicy, retryAfter, retryDecision } from './retry.js';
import { createTransport, type TransportKind } from './runtime.js';
import type { HttpAnswer, HttpPost, Transport } from './transport.js';

/** The headers of an exchange not yet signed: one object for all. */
const NO_HEADERS: Record<string, string> = Object.freeze({}) as Record<string, string>;

/**
 * One call to a cloud as it travels through the request layer: what the client asked for, and what
 * each layer adds to the attempt in flight (the domain, the signed path and headers, the round trip).
 * One object per call, reused by its retries and handed to the transport as the request itself: the
 * layers share it instead of allocating their own.
 */
export class Exchange implements HttpPost {
  /** The API's name: its rate budget's key and its name in telemetry. */
  readonly api: string;
  /** What errors call the call: the path without its query. */
  readonly endpoint: string;
  readonly body: string;
  /** The body's fields, as the client gave them: what the cloud's rate table counts a call by. */
  readonly fields: Readonly<Record<string, unknown>>;
  readonly contentType: string;
  /** The answer's shape past the cloud's envelope. */
  readonly schema: z.ZodType;
  readonly mode: RetryMode;
  readonly signal: AbortSignal | undefined;
  /** The permit of the turn the call was made in, if any: its first attempt spends it. */
  readonly permit: TurnPermit | undefined;
  /** Which of the data centre's domains the attempt goes to. */
  domain = 0;
  /** The domain's origin, for the attempt in flight. */
  origin = '';
  /**
   * Path and query: signing writes them as they follow the domain's own path prefix, sending puts
   * the prefix in front. May hold a credential, so never in an error.
   */
  path = '';
  timeoutMs = 0;
  /** Set by signing, on every attempt. */
  headers: Record<string, string> = NO_HEADERS;
  /** A secret the attempt's signing made (a request signature), redacted from what comes back. */
  secret: string | undefined;
  /** Known once an answer was read, whatever it said: the budget frees the slot by it. */
  roundTripMs: number | undefined;
  readonly #protocol: CloudProtocol;

  constructor(
    protocol: CloudProtocol,
    api: string,
    endpoint: string,
    body: Body,
    schema: z.ZodType,
    mode: RetryMode,
    options: CallOptions,
  ) {
    this.#protocol = protocol;
    this.api = api;
    this.endpoint = endpoint;
    if ('json' in body) {
      this.fields = (typeof body.json === 'object' && body.json !== null ? body.json : {}) as Record<
        string,
        unknown
      >;
      this.body = JSON.stringify(body.json);
      this.contentType = 'application/json';
    } else {
      this.fields = body.form;
      this.body = formEncode(body.form);
      this.contentType = 'application/x-www-form-urlencoded';
    }
    this.schema = schema;
    this.mode = mode;
    this.signal = options.signal;
    this.permit = options.permit;
  }

  /** Takes the cloud's secrets, and the attempt's, out of `text` (what a failure quotes back). */
  redact(text: string): string {
    return this.#protocol.redact(text, this);
  }
}

/**
 * What a caller may add to a call: a `signal` that aborts it, and the `permit` of the turn it is made
 * in (a stream's chunk, a typing signal), which its first attempt spends instead of asking the budget.
 */
export interface CallOptions {
  signal?: AbortSignal | undefined;
  permit?: TurnPermit | undefined;
}

/** The options of a call that adds none: one object for all. */
const NO_OPTIONS: CallOptions = Object.freeze({});

/** A request body: JSON, or form fields (a field given an array repeats). */
export type Body = { json: unknown } | { form: Record<string, string | string[]> };

/** One of a data centre's domains: where requests go, and the path its API lives under. */
export interface Domain {
  origin: string;
  prefix: string;
}

/**
 * What a cloud adds to the request layer: its protocol, and nothing else. How an attempt is
 * addressed and signed, how its answer's envelope reads (into the result or the cloud's typed error),
 * what its code table says of a refusal, and which of its secrets to keep out of errors.
 */
export interface CloudProtocol {
  /** The cloud's name in telemetry: `'tencent'`, `'rongcloud'`. */
  readonly cloud: string;
  /**
   * Sets `exchange.path` and `exchange.headers` (and `secret`, if signing made one) for the attempt.
   * Returns a promise only when a credential has to be made first, so the usual attempt costs none.
   */
  sign(exchange: Exchange): undefined | Promise<void>;
  /** The result in the answer, or the typed error it stands for. */
  read(answer: HttpAnswer, exchange: Exchange): unknown;
  /**
   * What the cloud's code table says of `error`: `undefined` when it does not speak of it (no cloud
   * code), and the neutral rule of `retryDecision` applies.
   */
  decide(error: unknown): RetryDecision | undefined;
  /** Takes every secret of the cloud's (and the attempt's `secret`) out of `text`. */
  redact(text: string, exchange: Exchange): string;
}

/** What the budget layer asks of the owner of the client's call budget (its `StreamScheduler`). */
export interface Budget {
  /** Whether calls wait for a limiter at all; without one, the budget layer is left out. */
  readonly limited: boolean;
  /** A permit for a call of `api` that draws on `charges` (all of them in one step), or on `api`'s budget. */
  acquire(
    api: string,
    signal?: AbortSignal,
    charges?: readonly BudgetCharge[],
  ): RateLimitPermit | Promise<RateLimitPermit>;
}

/** The budgets a call draws on, from the cloud's rate table: by its API and its body's fields. */
export type ChargesOf = (api: string, fields: Readonly<Record<string, unknown>>) => readonly BudgetCharge[];

/** The retry options of a call without a signal: one object for all. */
const NO_SIGNAL = {};

/** One attempt at a call through the layers below a given one. */
type Step = (exchange: Exchange) => Promise<unknown>;
/** A layer: wraps the steps below it, as undici's interceptors wrap a dispatch. */
type Layer = (next: Step) => Step;

/**
 * The retry policy: the call sent again as the cloud's code table and the call's mode allow. A call
 * that succeeds at once allocates nothing for it.
 */
function retrying(policy: RetryPolicy, protocol: CloudProtocol, telemetry: ClientTelemetry): Layer {
  return (next) => async (exchange) => {
    try {
      return await next(exchange);
    } catch (first) {
      if (exchange.signal?.aborted) throw abortedError(exchange.endpoint, first);
      try {
        return await retryAfter(
          first,
          (attempt) => {
            telemetry.retry(exchange.api, attempt);
            return next(exchange);
          },
          (error) => protocol.decide(error) ?? retryDecision(error, exchange.mode),
          policy,
          exchange.signal ? { signal: exchange.signal } : NO_SIGNAL,
        );
      } catch (error) {
        // Aborted while waiting (for a backoff, or for the budget): the caller's abort, as one error.
        throw exchange.signal?.aborted ? abortedError(exchange.endpoint, error) : error;
      }
    }
  };
}

/**
 * The budget permit: each attempt takes one, and frees it by its round trip when it ends. The first
 * attempt of a call made in a turn spends the turn's permit, handed down with the call.
 */
function budgeted(budget: Budget, charges: ChargesOf | undefined): Layer {
  return (next) => async (exchange) => {
    // A turn's permit already covers the call's budgets: they are worked out only when asked for.
    const granted =
      exchange.permit?.take() ??
      budget.acquire(exchange.api, exchange.signal, charges?.(exchange.api, exchange.fields));
    const permit = 'release' in granted ? granted : await granted;
    exchange.roundTripMs = undefined;
    try {
      return await next(exchange);
    } finally {
      permit.release(exchange.roundTripMs);
    }
  };
}

/** Failover: an attempt goes to the current domain; one that fails as a failing domain moves later ones on. */
function failingOver(origins: Origins): Layer {
  return (next) => async (exchange) => {
    const domain = origins.current;
    exchange.domain = domain;
    try {
      return await next(exchange);
    } catch (error) {
      origins.failed(domain, error);
      throw error;
    }
  };
}

/**
 * The bottom of the stack, one attempt on the wire: signed with the cloud's credentials (fresh per
 * attempt), sent on the transport, its answer read through the cloud's envelope into the result or the
 * cloud's typed error, and counted by how it ended, timed from the moment it was sent.
 */
function exchanging(
  protocol: CloudProtocol,
  transport: Transport,
  domains: readonly Domain[],
  timeoutMs: number,
  telemetry: ClientTelemetry,
): Step {
  return async (exchange) => {
    let sentAt = performance.now();
    try {
      const signing = protocol.sign(exchange);
      if (signing) {
        // Making a credential can take a while: the round trip starts once it is made.
        await signing;
        sentAt = performance.now();
      }
      const domain = domains[exchange.domain] as Domain;
      exchange.origin = domain.origin;
      if (domain.prefix !== '') exchange.path = domain.prefix + exchange.path;
      exchange.timeoutMs = timeoutMs;
      const answer = await transport.post(exchange);
      const roundTripMs = performance.now() - sentAt;
      exchange.roundTripMs = roundTripMs;
      const result = protocol.read(answer, exchange);
      telemetry.call(exchange.api, 'ok', roundTripMs);
      return result;
    } catch (error) {
      telemetry.call(exchange.api, outcomeOf(error), performance.now() - sentAt, error);
      throw error;
    }
  };
}

export interface RequestLayerOptions {
  /** Base URLs of the data centre's domains (origin and path prefix), primary first. */
  bases: readonly string[];
  timeoutMs: number;
  retry: RetryPolicy;
  connections?: number | undefined;
  /** How calls are sent; by default the one `detectTransport` picks for the runtime. */
  transport?: TransportKind | undefined;
  budget: Budget;
  /** The budgets each call draws on; without it, its API's alone. */
  charges?: ChargesOf | undefined;
  telemetry: ClientTelemetry;
}

/**
 * The one request layer every call of both clouds goes through, as a stack of small layers: the
 * retry policy, the budget permit, failover between the data centre's domains, and at the bottom the
 * attempt itself (signing, sending, the envelope, telemetry). A cloud supplies only its `CloudProtocol`, so `signal`, timeouts,
 * the budget, failover and retries behave the same on every cloud.
 */
export class RequestLayer {
  readonly #origins: Origins;
  readonly #transport: Transport;
  readonly #step: Step;
  readonly #protocol: CloudProtocol;

  constructor(protocol: CloudProtocol, options: RequestLayerOptions) {
    this.#protocol = protocol;
    this.#origins = new Origins(options.bases);
    const domains = options.bases.map((_, i) => {
      const url = new URL(this.#origins.base(i));
      return { origin: url.origin, prefix: url.pathname.replace(/\/+$/, '') };
    });
    this.#transport = createTransport(options.transport, { connections: options.connections });
    // Only the layers that have work to do: no budget layer without a limiter, no failover with
    // one domain. Each costs an async frame per attempt.
    const layers: Layer[] = [retrying(options.retry, protocol, options.telemetry)];
    if (options.budget.limited) layers.push(budgeted(options.budget, options.charges));
    if (domains.length > 1) layers.push(failingOver(this.#origins));
    this.#step = layers.reduceRight<Step>(
      (next, layer) => layer(next),
      exchanging(protocol, this.#transport, domains, options.timeoutMs, options.telemetry),
    );
  }

  /** The base URL requests go to now: the primary, or the backup after a failure. */
  get currentOrigin(): string {
    return this.#origins.base(this.#origins.current);
  }

  /**
   * Makes one call: `api` names its budget and telemetry, `endpoint` its errors; the answer is read
   * into `schema`'s output or a typed `ImbotError`. `options` may carry its signal and its turn's permit.
   */
  request<S extends z.ZodType>(
    api: string,
    endpoint: string,
    body: Body,
    schema: S,
    mode: RetryMode,
    options: CallOptions = NO_OPTIONS,
  ): Promise<z.output<S>> {
    return this.#step(new Exchange(this.#protocol, api, endpoint, body, schema, mode, options)) as Promise<
      z.output<S>
    >;
  }

  /** Closes the connection pool; requests under way finish first. */
  close(): Promise<void> {
    return this.#transport.close();
  }
}

function formEncode(form: Record<string, string | string[]>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(form)) {
    for (const v of Array.isArray(value) ? value : [value]) params.append(key, v);
  }
  return params.toString();
}

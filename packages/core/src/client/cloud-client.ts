import { InMemoryRateLimiter, noRateLimit, type RateLimiter, scopedLimiter } from '../limits/rate-limiter.js';
import {
  budgetProbe,
  type ClientStats,
  ClientTelemetry,
  type ObservabilityOptions,
} from '../observe/telemetry.js';
import { joinJournal, type StreamJournal } from '../stream/journal.js';
import { StreamScheduler } from '../stream/scheduler.js';
import { StreamSession, type StreamSessionOptions } from '../stream/session.js';
import type { StreamTransport } from '../stream/transport.js';
import { TypingIndicator, type TypingSignal } from '../stream/typing.js';
import { type ChargesOf, type CloudProtocol, RequestLayer } from '../wire/request.js';
import { defaultRetryPolicy, type RetryPolicy } from '../wire/retry.js';
import type { TransportKind } from '../wire/runtime.js';

/** What a cloud's client hands its base: its protocol and the options every client takes. */
export interface CloudClientSetup extends ObservabilityOptions {
  protocol: CloudProtocol;
  /** The app, as keys of a shared limiter and journal name it: `tencent:1400000000`. */
  app: string;
  /** The data centre's domains (a region's primary and backup hosts), or any origin and its backup. */
  domains: { primary: string; backup: string } | { baseUrl: string; backupBaseUrl?: string | undefined };
  /** The cloud's limit per API per second: the default budget. */
  callsPerSecond: number;
  /**
   * The budgets a call draws on, from the cloud's rate table with the app's plan applied: its API's,
   * and its group's or its recipients' where the cloud counts them.
   */
  charges: ChargesOf;
  timeoutMs?: number | undefined;
  retry?: Partial<RetryPolicy> | undefined;
  rateLimit?: RateLimiter | false | undefined;
  connections?: number | undefined;
  transport?: TransportKind | undefined;
  journal?: StreamJournal | undefined;
}

/**
 * What every cloud's client is made of, whatever its protocol: the one request layer, the budget's
 * owner (the stream scheduler), telemetry, and the journal of open messages. A client adds only its
 * table of methods and the streaming APIs that serve a target (`transportFor`).
 */
export abstract class CloudClient<Target extends object> {
  /** The one request layer: a client's methods make their calls through it. */
  protected readonly requests: RequestLayer;
  readonly #scheduler: StreamScheduler;
  readonly #telemetry: ClientTelemetry;
  /** Aborted by `close()`: what the client watches in the background (late routes) stops with it. */
  readonly #closing = new AbortController();
  /** Makes a transport record its messages in the client's journal, if it has one. */
  readonly #journaled: (transport: StreamTransport, target: Target) => StreamTransport;

  protected constructor(setup: CloudClientSetup) {
    // A limiter given by the app may serve other apps too: its keys name this one.
    const limiter: RateLimiter =
      setup.rateLimit === false
        ? noRateLimit
        : setup.rateLimit
          ? scopedLimiter(setup.rateLimit, setup.app)
          : new InMemoryRateLimiter({ limit: setup.callsPerSecond });
    // The scheduler tells the telemetry each delivery's latency; the telemetry reads its queue.
    const scheduler = new StreamScheduler(limiter, {
      onDelivered: (ms) => telemetry.delivered(ms),
      charges: setup.charges,
    });
    const telemetry = new ClientTelemetry(setup.protocol.cloud, setup, {
      budget: budgetProbe(limiter),
      streams: () => ({ open: scheduler.openSessions, queued: scheduler.queued }),
    });
    this.#scheduler = scheduler;
    this.#telemetry = telemetry;
    const d = setup.domains;
    this.requests = new RequestLayer(setup.protocol, {
      bases:
        'primary' in d
          ? [`https://${d.primary}`, `https://${d.backup}`]
          : [d.baseUrl, ...(d.backupBaseUrl ? [d.backupBaseUrl] : [])],
      timeoutMs: setup.timeoutMs ?? 10_000,
      retry: { ...defaultRetryPolicy, ...setup.retry } as RetryPolicy,
      connections: setup.connections,
      transport: setup.transport,
      budget: this.#scheduler,
      charges: setup.charges,
      telemetry: this.#telemetry,
    });
    this.#journaled = joinJournal(setup.journal, setup.app, (target: Target) => this.transportFor(target));
  }

  /** The domain requests go to now: the primary, or the backup after a failure. */
  get currentOrigin(): string {
    return this.requests.currentOrigin;
  }

  /**
   * A snapshot of what this client has done: calls by API and outcome, rejections by code, retries,
   * the call budget in use, the stream queue and the stream delivery latency.
   */
  stats(): ClientStats {
    return this.#telemetry.stats();
  }

  /**
   * Finishes every open stream session (each still makes its closing call), stops what the client
   * watches in the background, then closes the connection pool. Resolves when all of that is done.
   */
  async close(): Promise<void> {
    await this.#scheduler.close();
    this.#closing.abort();
    await this.requests.close();
  }

  /** Aborts once the client closes: a watch it starts in the background listens to it, and stops. */
  protected get closing(): AbortSignal {
    return this.#closing.signal;
  }

  /** The streaming API that serves `target`, after checking it. */
  protected abstract transportFor(target: Target): StreamTransport;

  /**
   * A stream session to `target`, in this client's budget and journal; `typing: true` gives it the
   * cloud's typing signal until its first text, where the cloud has one for `target`.
   */
  protected session(target: Target, options: StreamSessionOptions): StreamSession {
    const transport = this.#journaled(this.transportFor(target), target);
    if (options.typing !== true) return new StreamSession(transport, this.#scheduler, options);
    const typing = this.typingFor(target);
    return new StreamSession(transport, this.#scheduler, { ...options, typing: typing ?? false });
  }

  /** The typing signal to `target`, where the cloud has one; none by default. */
  protected typingFor(_target: Target): TypingIndicator | undefined {
    return undefined;
  }

  /** An indicator that sends `signal` in this client's budget, in its lowest class. */
  protected typingIndicator(signal: TypingSignal): TypingIndicator {
    return new TypingIndicator(signal, this.#scheduler);
  }
}

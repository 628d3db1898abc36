import { createRequire } from 'node:module';
import * as z from 'zod';
import { ApiError, ImbotError } from '../errors.js';
import type { RateLimiter } from '../limits/rate-limiter.js';
import { type Logger, logsDebug, silentLogger } from './logger.js';

/**
 * The part of an OpenTelemetry `Meter` imbot uses. `@opentelemetry/api` is an optional peer: an
 * app that installs it gets imbot's metrics through its global meter provider, or passes a meter.
 */
export interface MeterLike {
  createCounter(
    name: string,
    options?: InstrumentOptions,
  ): { add(value: number, attributes?: Attributes): void };
  createHistogram(
    name: string,
    options?: InstrumentOptions,
  ): { record(value: number, attributes?: Attributes): void };
  createObservableGauge(
    name: string,
    options?: InstrumentOptions,
  ): {
    addCallback(callback: (result: { observe(value: number, attributes?: Attributes): void }) => void): void;
  };
}

type Attributes = Record<string, string | number>;
interface InstrumentOptions {
  description?: string;
  unit?: string;
}

/** The `meter` option: a meter, or `false` for none even when `@opentelemetry/api` is installed. */
export const meterOption = z.custom<MeterLike | false>(
  (value) =>
    value === false ||
    (typeof value === 'object' &&
      value !== null &&
      typeof (value as Record<string, unknown>).createCounter === 'function' &&
      typeof (value as Record<string, unknown>).createHistogram === 'function'),
  { message: 'meter must be an OpenTelemetry Meter (metrics.getMeter(…)) or false' },
);

/** What every client takes to be watched. */
export interface ObservabilityOptions {
  /** Where the client logs failed calls (warn) and, at debug level, every call and retry. Default: silent. */
  logger?: Logger;
  /**
   * Where its metrics go: an OpenTelemetry meter. Default: the global meter provider's, when the app
   * has installed `@opentelemetry/api` (register the provider before making the client); `false`: none.
   */
  meter?: MeterLike | false;
}

/** How one HTTP call ended: answered with success, answered with an error code, or no answer. */
export type CallOutcome = 'ok' | 'rejected' | 'failed';

/** A client's counts since it was made, per API and in all: what `stats()` returns. */
export interface ClientStats {
  cloud: string;
  /** HTTP calls made (each retry is a call), by how they ended. */
  calls: { total: number; ok: number; rejected: number; failed: number };
  /** Calls made again after a failure. */
  retries: number;
  /** Per API (`openim_robot_http_svc/send_stream_msg`, `/message/private/publish.json`, …). */
  apis: Record<string, ApiStats>;
  /** Stream sessions not finished, and those waiting for a call (the stream queue). */
  streams: { open: number; queued: number };
  /** From text written to a stream until the call carrying it was answered, over the last 1,024 calls. */
  deliveryLatencyMs: { count: number; p50: number; p95: number; max: number };
}

export interface ApiStats {
  ok: number;
  rejected: number;
  failed: number;
  retries: number;
  /** Rejections by the cloud's error code. */
  codes: Record<string, number>;
  /** The call budget: slots held or cooling now, and calls per second allowed (when the limiter says). */
  budget?: { inUse: number; perSecond: number };
}

/** What the client tells the telemetry about its state, read when a snapshot or a gauge asks. */
export interface TelemetryProbes {
  budget(api: string): { inUse: number; perSecond: number } | undefined;
  streams(): { open: number; queued: number };
}

const LATENCY_WINDOW = 1024;

/**
 * A client's logger, metrics and counts in one place, so that both clouds' clients report the same
 * things under the same names. Work per call is a few counter updates; with the default silent
 * logger and no meter, nothing is allocated per call.
 */
export class ClientTelemetry {
  readonly #logger: Logger;
  readonly #cloud: string;
  readonly #probes: TelemetryProbes;
  readonly #debug: boolean;
  readonly #apis = new Map<string, ApiStats>();
  readonly #totals = { ok: 0, rejected: 0, failed: 0, retries: 0 };
  readonly #latencies = new Float64Array(LATENCY_WINDOW);
  #latencyCount = 0;
  readonly #instruments: Instruments | undefined;

  constructor(
    cloud: string,
    options: { logger?: Logger; meter?: MeterLike | false },
    probes: TelemetryProbes,
  ) {
    this.#cloud = cloud;
    this.#probes = probes;
    this.#logger = options.logger ?? silentLogger;
    this.#debug = logsDebug(this.#logger);
    const meter = options.meter === false ? undefined : (options.meter ?? globalMeter());
    this.#instruments = meter ? this.#instrument(meter) : undefined;
  }

  /** One HTTP call of `api` ended, after `durationMs`; `error` when it did not succeed. */
  call(api: string, outcome: CallOutcome, durationMs: number, error?: unknown): void {
    const counts = this.#api(api);
    counts[outcome]++;
    this.#totals[outcome]++;
    const code = outcome === 'rejected' ? errorCodeOf(error) : undefined;
    if (code !== undefined) counts.codes[code] = (counts.codes[code] ?? 0) + 1;
    const instruments = this.#instruments;
    if (instruments) {
      const attributes = instruments.attributes(api, outcome);
      instruments.calls.add(1, attributes);
      instruments.duration.record(durationMs, attributes);
      if (code !== undefined) instruments.rejections.add(1, { cloud: this.#cloud, api, code });
    }
    if (outcome !== 'ok') {
      this.#logger.warn(
        { cloud: this.#cloud, api, outcome, ms: Math.round(durationMs), ...problemOf(error) },
        `imbot: ${api} ${outcome === 'rejected' ? 'rejected by the cloud' : 'failed'}`,
      );
    } else if (this.#debug) {
      this.#logger.debug({ cloud: this.#cloud, api, outcome, ms: Math.round(durationMs) }, `imbot: ${api}`);
    }
  }

  /** `api` is called again (attempt `attempt`, counting from 0) after a failure. */
  retry(api: string, attempt: number): void {
    this.#api(api).retries++;
    this.#totals.retries++;
    this.#instruments?.retries.add(1, { cloud: this.#cloud, api });
    if (this.#debug) this.#logger.debug({ cloud: this.#cloud, api, attempt }, `imbot: retrying ${api}`);
  }

  /** A stream call was answered `latencyMs` after the oldest text it carried was written. */
  delivered(latencyMs: number): void {
    this.#latencies[this.#latencyCount % LATENCY_WINDOW] = latencyMs;
    this.#latencyCount++;
    this.#instruments?.latency.record(latencyMs, { cloud: this.#cloud });
  }

  /** A snapshot of the counts, the budget in use and the stream queue. */
  stats(): ClientStats {
    const apis: Record<string, ApiStats> = {};
    for (const [api, counts] of this.#apis) {
      const budget = this.#probes.budget(api);
      apis[api] = { ...counts, codes: { ...counts.codes }, ...(budget ? { budget } : {}) };
    }
    const { ok, rejected, failed, retries } = this.#totals;
    return {
      cloud: this.#cloud,
      calls: { total: ok + rejected + failed, ok, rejected, failed },
      retries,
      apis,
      streams: this.#probes.streams(),
      deliveryLatencyMs: this.#latencySummary(),
    };
  }

  #api(api: string): ApiStats {
    let counts = this.#apis.get(api);
    if (!counts) {
      counts = { ok: 0, rejected: 0, failed: 0, retries: 0, codes: {} };
      this.#apis.set(api, counts);
    }
    return counts;
  }

  #latencySummary(): ClientStats['deliveryLatencyMs'] {
    const count = Math.min(this.#latencyCount, LATENCY_WINDOW);
    if (count === 0) return { count: 0, p50: 0, p95: 0, max: 0 };
    const sorted = this.#latencies.slice(0, count).sort();
    const at = (q: number) => sorted[Math.min(count - 1, Math.floor(q * count))] as number;
    return { count: this.#latencyCount, p50: at(0.5), p95: at(0.95), max: sorted[count - 1] as number };
  }

  #instrument(meter: MeterLike): Instruments {
    const cloud = this.#cloud;
    // One attribute set per API and outcome, made once: a call looks it up, it builds nothing.
    const byApi = new Map<string, Record<CallOutcome, Attributes>>();
    const instruments: Instruments = {
      calls: meter.createCounter('imbot.client.calls', {
        description: 'HTTP calls to the cloud, by API and outcome (ok, rejected, failed)',
      }),
      duration: meter.createHistogram('imbot.client.call.duration', {
        description: 'Time from sending a call to reading its answer',
        unit: 'ms',
      }),
      rejections: meter.createCounter('imbot.client.rejections', {
        description: 'Calls the cloud answered with an error code, by API and code',
      }),
      retries: meter.createCounter('imbot.client.retries', {
        description: 'Calls made again after a failure',
      }),
      latency: meter.createHistogram('imbot.stream.delivery.latency', {
        description: 'From text written to a stream session until the call carrying it was answered',
        unit: 'ms',
      }),
      attributes: (api, outcome) => {
        let sets = byApi.get(api);
        if (!sets) {
          sets = {
            ok: { cloud, api, outcome: 'ok' },
            rejected: { cloud, api, outcome: 'rejected' },
            failed: { cloud, api, outcome: 'failed' },
          };
          byApi.set(api, sets);
        }
        return sets[outcome];
      },
    };
    meter
      .createObservableGauge('imbot.client.budget.in_use', {
        description: 'Call budget slots held or cooling, by API (what the cloud may still count)',
      })
      .addCallback((result) => {
        for (const api of this.#apis.keys()) {
          const budget = this.#probes.budget(api);
          if (budget) result.observe(budget.inUse, { cloud, api });
        }
      });
    meter
      .createObservableGauge('imbot.client.budget.limit', { description: 'Calls per second allowed, by API' })
      .addCallback((result) => {
        for (const api of this.#apis.keys()) {
          const budget = this.#probes.budget(api);
          if (budget && Number.isFinite(budget.perSecond)) result.observe(budget.perSecond, { cloud, api });
        }
      });
    meter
      .createObservableGauge('imbot.stream.queue.depth', {
        description: 'Stream sessions waiting for a call',
      })
      .addCallback((result) => result.observe(this.#probes.streams().queued, { cloud }));
    meter
      .createObservableGauge('imbot.stream.open', { description: 'Stream sessions not finished' })
      .addCallback((result) => result.observe(this.#probes.streams().open, { cloud }));
    return instruments;
  }
}

/**
 * The budget probe of a limiter, for `TelemetryProbes.budget`: its slots in use and its rate per API,
 * where the limiter can tell both at once.
 */
export function budgetProbe(limiter: RateLimiter): TelemetryProbes['budget'] {
  return (api) =>
    limiter.inUse && limiter.callsPerSecond
      ? { inUse: limiter.inUse(api), perSecond: limiter.callsPerSecond(api) }
      : undefined;
}

interface Instruments {
  calls: { add(value: number, attributes?: Attributes): void };
  duration: { record(value: number, attributes?: Attributes): void };
  rejections: { add(value: number, attributes?: Attributes): void };
  retries: { add(value: number, attributes?: Attributes): void };
  latency: { record(value: number, attributes?: Attributes): void };
  attributes(api: string, outcome: CallOutcome): Attributes;
}

/** How a call that threw ended: the cloud answered with an error code, or there was no answer. */
export function outcomeOf(error: unknown): CallOutcome {
  return error instanceof ApiError && errorCodeOf(error) !== undefined ? 'rejected' : 'failed';
}

/** The cloud's error code of a rejection, as text (`20003`, `1008`). */
function errorCodeOf(error: unknown): string | undefined {
  const code = (error as { errorCode?: unknown } | undefined)?.errorCode;
  return typeof code === 'number' || typeof code === 'string' ? String(code) : undefined;
}

/** What a log line says of a failure: imbot's error code and its message, already free of secrets. */
function problemOf(error: unknown): { code?: string; errorCode?: string; error?: string } {
  if (error instanceof ImbotError) {
    const errorCode = errorCodeOf(error);
    return { code: error.code, ...(errorCode ? { errorCode } : {}), error: error.message };
  }
  return error === undefined ? {} : { error: 'unexpected error' };
}

/** The global OpenTelemetry meter, when the app has installed `@opentelemetry/api`. */
function globalMeter(): MeterLike | undefined {
  try {
    const api = createRequire(import.meta.url)('@opentelemetry/api') as {
      metrics: { getMeter(name: string): MeterLike };
    };
    return api.metrics.getMeter('@imbot/core');
  } catch {
    return undefined;
  }
}

import type { Dispatcher, Pool } from 'undici';
import { abortedError, ImbotError, NetworkError, redactedCause, TimeoutError } from '../errors.js';

/** The part of undici this transport uses. */
export type Undici = Pick<typeof import('undici'), 'Pool'>;
let loading: Promise<Undici> | undefined;

/**
 * undici, loaded when the first client is made rather than when `@imbot/core` is imported: importing
 * it takes longer than the rest of core, and a function that starts cold answers its first webhook
 * (answer first, work after) before any call goes out.
 */
function loadUndici(): Promise<Undici> {
  // Named through a variable so that a bundler (wrangler's, a Worker's) leaves undici out: a runtime
  // that never chooses this transport never loads it.
  const name = 'undici';
  loading ??= import(name) as Promise<Undici>;
  return loading;
}

/** Whether `module` has the dispatch this transport drives (Bun's `undici` is a shim without it). */
function dispatches(module: Undici): boolean {
  return typeof module.Pool?.prototype?.dispatch === 'function';
}

/** What the request layer sends through: undici's dispatch on Node, the runtime's `fetch` elsewhere. */
export interface Transport {
  /** Sends one POST and reads the whole answer, whatever its status. */
  post(request: HttpPost): Promise<HttpAnswer>;
  /** Closes what the transport keeps open; requests under way finish first. */
  close(): Promise<void>;
}

export interface HttpTransportOptions {
  /** Most sockets kept open to one origin. */
  connections?: number | undefined;
  /** How long an idle socket stays open for reuse. */
  keepAliveTimeoutMs?: number | undefined;
  /** Answers larger than this are refused rather than buffered. */
  maxResponseBytes?: number | undefined;
}

export interface HttpPost {
  /** `https://host:port`, no path. */
  origin: string;
  /** Path and query string; may hold credentials, so it never appears in an error. */
  path: string;
  /** What errors call the request: the path without its query. */
  endpoint: string;
  headers: Record<string, string>;
  body: string;
  /**
   * How long the answer's headers may take once the request is on its socket, and again how long
   * the body may pause between parts (undici's own `headersTimeout` and `bodyTimeout`: one shared
   * timer wheel, no timer or `AbortSignal` per request). Connecting has its own 10 s limit.
   */
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** Removes secrets from any text that ends up in an error. */
  redact(text: string): string;
}

export interface HttpAnswer {
  status: number;
  body: string;
}

/** Failures raised while connecting: the request was certainly not written. */
const CONNECT_PHASE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The typed error for a request that failed, its cause rebuilt without anything secret. */
function failure(error: unknown, request: HttpPost): ImbotError {
  const cause = redactedCause(error, (text) => request.redact(text));
  if (request.signal?.aborted) return abortedError(request.endpoint, cause);
  const code = errorCode(error);
  if (code && TIMEOUT_CODES.has(code))
    return new TimeoutError(request.endpoint, request.timeoutMs, { cause });
  if (code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') {
    return new NetworkError(request.endpoint, true, 'the answer was larger than allowed', { cause });
  }
  const sent = !(code && CONNECT_PHASE_CODES.has(code));
  return new NetworkError(request.endpoint, sent, code ?? cause.message, { cause });
}

/** undici's deadline errors: no answer's headers in time, or a body that stalled. */
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/**
 * Reads one answer through undici's dispatch handler, as undici's own `request()` does underneath,
 * but without its body stream: the body's chunks go straight into a string, and the call costs one
 * promise. A caller's `signal` aborts the request through the handler's `abort`.
 */
class AnswerReader implements Dispatcher.DispatchHandler {
  readonly #request: HttpPost;
  readonly #resolve: (answer: HttpAnswer) => void;
  readonly #reject: (error: ImbotError) => void;
  #status = 0;
  #body: Buffer | Buffer[] | undefined;
  #detach: (() => void) | undefined;

  constructor(request: HttpPost, resolve: (answer: HttpAnswer) => void, reject: (error: ImbotError) => void) {
    this.#request = request;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  onConnect(abort: (reason?: Error) => void): void {
    const signal = this.#request.signal;
    if (!signal) return;
    if (signal.aborted) {
      abort(signal.reason);
      return;
    }
    const onAbort = () => abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    this.#detach = () => signal.removeEventListener('abort', onAbort);
  }

  onHeaders(statusCode: number): boolean {
    // 1xx answers are informational: the real one follows.
    if (statusCode >= 200) this.#status = statusCode;
    return true;
  }

  onData(chunk: Buffer): boolean {
    const body = this.#body;
    if (body === undefined) this.#body = chunk;
    else if (Array.isArray(body)) body.push(chunk);
    else this.#body = [body, chunk];
    return true;
  }

  onComplete(): void {
    this.#detach?.();
    const body = this.#body;
    const text =
      body === undefined
        ? ''
        : Array.isArray(body)
          ? Buffer.concat(body).toString('utf8')
          : body.toString('utf8');
    this.#resolve({ status: this.#status, body: text });
  }

  onError(error: Error): void {
    this.#detach?.();
    this.#reject(failure(error, this.#request));
  }
}

/**
 * One JSON-or-form-over-HTTP POST on undici, with a keep-alive pool per origin and a deadline per
 * request. It turns every failure into an `ImbotError` (`TimeoutError`, `NetworkError`) whose cause
 * has been rebuilt without anything that could carry a secret. A request costs no timer and no
 * `AbortSignal` of its own: the deadline is undici's, and a signal is passed on only when the caller
 * gives one.
 */
export class HttpTransport implements Transport {
  /** One keep-alive pool per origin (a client has two at most: the primary and the backup). */
  readonly #pools = new Map<string, Pool>();
  readonly #options: Pool.Options;
  /** undici once loaded and found to dispatch; until then every call takes the loading path. */
  #undici: Undici | undefined;
  readonly #loading: Promise<Undici | undefined>;
  readonly #fallback: Transport | undefined;

  /**
   * `fallback`, when given, takes the calls if undici cannot be loaded or has no `Pool.dispatch`
   * (the transport chosen by detection falls back to `fetch`; one asked for by name fails instead).
   * `load` replaces the `import('undici')` (tests).
   */
  constructor(
    options: HttpTransportOptions = {},
    { fallback, load = loadUndici }: { fallback?: Transport; load?: () => Promise<Undici> } = {},
  ) {
    this.#fallback = fallback;
    // Loaded now, off the first call's path; a failure to load surfaces on that call instead.
    this.#loading = load().then(
      (module) => {
        if (dispatches(module)) this.#undici = module;
        return this.#undici;
      },
      () => undefined,
    );
    this.#options = {
      connections: options.connections ?? 128,
      keepAliveTimeout: options.keepAliveTimeoutMs ?? 30_000,
      maxResponseSize: options.maxResponseBytes ?? 8 * 1024 * 1024,
    };
  }

  #pool(origin: string, module: Undici): Pool {
    let pool = this.#pools.get(origin);
    if (!pool) {
      pool = new module.Pool(origin, this.#options);
      this.#pools.set(origin, pool);
    }
    return pool;
  }

  /** Sends one POST and reads the whole answer, whatever its status. */
  post(request: HttpPost): Promise<HttpAnswer> {
    const module = this.#undici;
    if (!module) return this.#loading.then((loaded) => this.#postLoaded(loaded, request));
    return new Promise<HttpAnswer>((resolve, reject) => {
      const options: Dispatcher.DispatchOptions = {
        path: request.path,
        method: 'POST',
        headers: request.headers,
        body: request.body,
        headersTimeout: request.timeoutMs,
        bodyTimeout: request.timeoutMs,
      };
      this.#pool(request.origin, module).dispatch(options, new AnswerReader(request, resolve, reject));
    });
  }

  /** The first calls, made while undici loaded: sent on it, on the fallback, or refused with a reason. */
  #postLoaded(module: Undici | undefined, request: HttpPost): Promise<HttpAnswer> {
    if (module) return this.post(request);
    if (this.#fallback) return this.#fallback.post(request);
    return Promise.reject(
      new ImbotError(
        'TRANSPORT_UNAVAILABLE',
        "undici's Pool.dispatch is not available on this runtime (not installed, or a shim such as Bun's): " +
          "leave the client's `transport` option out, or set it to 'fetch'",
      ),
    );
  }

  /** Closes every pooled socket; pending requests finish first. */
  async close(): Promise<void> {
    await Promise.all([...this.#pools.values()].map((pool) => pool.close()));
    await this.#fallback?.close();
  }
}

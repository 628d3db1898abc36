import { abortedError, ImbotError, NetworkError, redactedCause, TimeoutError } from '../errors.js';
import type { HttpAnswer, HttpPost, HttpTransportOptions, Transport } from './transport.js';

/**
 * Failures that happened before the request could be written, as each runtime's `fetch` words them:
 * Node's (undici's codes on the cause), Bun's (its own codes) and Deno's and workerd's (only a
 * message). Anything else counts as possibly sent, so a call that must not repeat is not repeated.
 */
const CONNECT_PHASE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  'ConnectionRefused',
  'FailedToOpenSocket',
]);
const CONNECT_PHASE_MESSAGE =
  /connection refused|dns error|failed to lookup|tcp connect error|network is unreachable/i;

/** The cause's code, looking one level down as Node's `fetch failed` wraps it. */
function errorCode(error: unknown): string | undefined {
  const own = (error as { code?: unknown } | null)?.code;
  if (typeof own === 'string') return own;
  const inner = (error as { cause?: { code?: unknown } } | null)?.cause?.code;
  return typeof inner === 'string' ? inner : undefined;
}

/** The innermost message, where a runtime says what happened ("fetch failed" says nothing). */
function innerError(error: unknown): unknown {
  const cause = (error as { cause?: unknown } | null)?.cause;
  return cause instanceof Error ? cause : error;
}

/** An answer over the size cap: it was sent, and its answer refused while read. */
function tooLarge(request: HttpPost): NetworkError {
  return new NetworkError(request.endpoint, true, 'the answer was larger than allowed');
}

/**
 * The global `fetch`, called as a plain function: workerd refuses it ("Illegal invocation") when
 * called as a method of another object, as `this.#fetch(…)` would.
 */
const callFetch: typeof fetch = (input, init) => fetch(input, init);

/** Why the transport itself aborted a request: kept apart from a caller's abort. */
type Stop = 'none' | 'timeout';

/**
 * One POST over the runtime's own `fetch`, for runtimes where undici's dispatch is not there (Bun,
 * Deno, Cloudflare Workers) or when the `transport: 'fetch'` option asks for it. It keeps the
 * undici transport's contract: `timeoutMs` bounds the wait for the answer's headers and again each
 * pause of its body; a caller's `signal` aborts; an answer over `maxResponseBytes` is refused while
 * it is read; and every failure becomes a `TimeoutError`, `NetworkError` (with `sent`) or the
 * aborted error, its cause rebuilt without anything secret. Sockets and keep-alive are the runtime's
 * (`connections` and `keepAliveTimeoutMs` do not apply). Each request costs a timer and an
 * `AbortController`, which undici's timer wheel spares the Node transport.
 */
export class FetchTransport implements Transport {
  readonly #maxResponseBytes: number;
  readonly #fetch: typeof fetch;

  /** `fetchImpl` replaces the global `fetch` (tests). */
  constructor(options: HttpTransportOptions = {}, fetchImpl: typeof fetch = callFetch) {
    this.#maxResponseBytes = options.maxResponseBytes ?? 8 * 1024 * 1024;
    this.#fetch = fetchImpl;
  }

  /** Sends one POST and reads the whole answer, whatever its status. */
  async post(request: HttpPost): Promise<HttpAnswer> {
    const signal = request.signal;
    if (signal?.aborted) throw abortedError(request.endpoint, signal.reason);
    const controller = new AbortController();
    let stop: Stop = 'none';
    let timer: ReturnType<typeof setTimeout> | undefined;
    const arm = () => {
      if (timer !== undefined) clearTimeout(timer);
      timer = setTimeout(() => {
        stop = 'timeout';
        controller.abort();
      }, request.timeoutMs);
    };
    const onAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    arm();
    try {
      const response = await this.#fetch(request.origin + request.path, {
        method: 'POST',
        headers: request.headers,
        body: request.body,
        signal: controller.signal,
        redirect: 'manual',
      });
      const declared = Number(response.headers.get('content-length') ?? Number.NaN);
      if (declared > this.#maxResponseBytes) {
        controller.abort();
        throw tooLarge(request);
      }
      const body = await this.#read(response, arm, () => {
        controller.abort();
        return tooLarge(request);
      });
      return { status: response.status, body };
    } catch (error) {
      throw error instanceof ImbotError ? error : this.#failure(error, request, stop);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Reads the body into a string, re-arming the deadline on each part and counting bytes against the cap. */
  async #read(response: Response, arm: () => void, refuse: () => ImbotError): Promise<string> {
    if (!response.body) return '';
    const reader = response.body.getReader();
    const parts: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      arm();
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > this.#maxResponseBytes) {
        const error = refuse();
        await reader.cancel().catch(() => undefined);
        throw error;
      }
      parts.push(value);
    }
    const decoder = new TextDecoder();
    if (parts.length === 1) return decoder.decode(parts[0]);
    const all = new Uint8Array(size);
    let at = 0;
    for (const part of parts) {
      all.set(part, at);
      at += part.byteLength;
    }
    return decoder.decode(all);
  }

  /** The typed error for a request that failed, its cause rebuilt without anything secret. */
  #failure(error: unknown, request: HttpPost, stop: Stop): ImbotError {
    const cause = redactedCause(innerError(error), (text) => request.redact(text));
    if (request.signal?.aborted) return abortedError(request.endpoint, cause);
    if (stop === 'timeout') return new TimeoutError(request.endpoint, request.timeoutMs, { cause });
    const code = errorCode(error);
    const unsent =
      (code !== undefined && CONNECT_PHASE_CODES.has(code)) || CONNECT_PHASE_MESSAGE.test(cause.message);
    return new NetworkError(request.endpoint, !unsent, code ?? cause.message, { cause });
  }

  /** Nothing to close: the runtime owns the sockets. */
  async close(): Promise<void> {}
}

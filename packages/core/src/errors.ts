import type { ImbotErrorCode } from './error-codes.js';

/**
 * Every error imbot throws is an `ImbotError` with a stable string `code`, so callers can branch on
 * `err.code` without parsing messages. Messages say what to do and never carry a secret: anything
 * that wraps a lower-level error goes through `redactedCause` first.
 */
export class ImbotError extends Error {
  /** Stable, machine-readable identifier of the failure kind: one of `IMBOT_ERROR_CODES`. */
  readonly code: ImbotErrorCode;

  constructor(code: ImbotErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** An input was rejected before anything was sent. `field` names it, `limit` says what was allowed. */
export class ValidationError extends ImbotError {
  readonly field: string;
  readonly limit: string | undefined;

  constructor(field: string, message: string, limit?: string) {
    super('VALIDATION', message);
    this.field = field;
    this.limit = limit;
  }
}

/** The request did not complete within `timeoutMs`; it may or may not have reached the cloud. */
export class TimeoutError extends ImbotError {
  readonly endpoint: string;
  readonly timeoutMs: number;

  constructor(endpoint: string, timeoutMs: number, options?: { cause?: unknown }) {
    super('TIMEOUT', `${endpoint} did not answer within ${timeoutMs} ms`, options);
    this.endpoint = endpoint;
    this.timeoutMs = timeoutMs;
  }
}

/**
 * The connection failed. `sent` tells whether the request may have reached the cloud: `false` only
 * when the failure happened while connecting, so nothing was written.
 */
export class NetworkError extends ImbotError {
  readonly endpoint: string;
  readonly sent: boolean;

  constructor(endpoint: string, sent: boolean, detail: string, options?: { cause?: unknown }) {
    super('NETWORK', `${endpoint}: network failure (${detail})`, options);
    this.endpoint = endpoint;
    this.sent = sent;
  }
}

export interface ApiErrorDetails {
  endpoint: string;
  retryable: boolean;
  status?: number | undefined;
  requestId?: string | undefined;
}

/**
 * The cloud (or something in front of it) answered, but not with success: an HTTP status it should
 * not send (`code: 'HTTP_STATUS'`), a body that is not the documented envelope
 * (`code: 'MALFORMED_RESPONSE'`), or, in a subclass, a cloud error code.
 */
export class ApiError extends ImbotError {
  readonly endpoint: string;
  readonly retryable: boolean;
  readonly status: number | undefined;
  readonly requestId: string | undefined;

  constructor(
    code: ImbotErrorCode,
    message: string,
    details: ApiErrorDetails,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.endpoint = details.endpoint;
    this.retryable = details.retryable;
    this.status = details.status;
    this.requestId = details.requestId;
  }
}

/**
 * The cloud answered with its own error code: it refused the call, so nothing was applied. Each
 * cloud's folder has a subclass in the cloud's own words; code that serves every cloud branches on
 * `code`, `errorCode` or `retryable` here.
 */
export class CloudApiError extends ApiError {
  /** Which cloud answered, as its platform names it. */
  readonly cloud: string;
  /** The cloud's own error code. */
  readonly errorCode: number;

  constructor(
    code: ImbotErrorCode,
    cloud: string,
    errorCode: number,
    message: string,
    details: ApiErrorDetails & { hint?: string | undefined },
  ) {
    const hint = details.hint ? ` (${details.hint})` : '';
    super(code, `${message}${hint}`, details);
    this.cloud = cloud;
    this.errorCode = errorCode;
  }
}

/** The caller's `signal` aborted the call (`code: 'ABORTED'`); `cause` is what the abort interrupted. */
export function abortedError(endpoint: string, cause?: unknown): ImbotError {
  return new ImbotError('ABORTED', `${endpoint}: the call was aborted`, {
    cause: cause instanceof ImbotError ? cause : redactedCause(cause, (text) => text),
  });
}

/** A function or class the app calls: where an error it throws is said to start. */
export type Entry = ((...args: never[]) => unknown) | (abstract new (...args: never[]) => unknown);

/**
 * Points `error`'s stack at the app's call of `entry`, dropping the frames inside imbot: Node opens
 * its report of an uncaught error with the source line of the stack's first frame, which is then
 * the app's own line (the call of a client's constructor, say) rather than one inside the bundle.
 * Returns `error`.
 */
export function thrownAt<E>(error: E, entry: Entry): E {
  if (error instanceof ImbotError) Error.captureStackTrace?.(error, entry);
  return error;
}

/**
 * Rebuilds a lower-level error as a plain `Error` carrying only its name, code and a redacted
 * message, so that nothing a library attached to it (sockets, URLs, request options) can leak a
 * secret through `cause`.
 */
export function redactedCause(error: unknown, redact: (text: string) => string): Error {
  if (!(error instanceof Error)) return new Error(redact(String(error)));
  const copy = new Error(redact(error.message));
  copy.name = error.name;
  copy.stack = `${copy.name}: ${copy.message}`;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') Object.assign(copy, { code });
  return copy;
}

/** The cloud has no way to do what was asked (edit a group message, say). */
export class NotSupportedError extends ImbotError {
  constructor(message: string) {
    super('NOT_SUPPORTED', message);
  }
}

/** Why a webhook request was refused, and the HTTP status to answer it with. */
export type WebhookProblem =
  | 'app-mismatch'
  | 'missing-signature'
  | 'bad-signature'
  | 'stale'
  | 'replayed'
  | 'malformed'
  | 'too-large'
  | 'body-timeout'
  | 'raw-body-unavailable';

const webhookStatus: Record<WebhookProblem, number> = {
  'app-mismatch': 403,
  'missing-signature': 401,
  'bad-signature': 401,
  stale: 401,
  replayed: 409,
  malformed: 400,
  'too-large': 413,
  'body-timeout': 408,
  'raw-body-unavailable': 500,
};

/**
 * A webhook request was refused before reaching any handler: forged, stale, replayed, for another
 * app, malformed, too large, or unreadable. `status` is the HTTP status to answer with (Express's
 * error handler uses it too).
 */
export class WebhookVerificationError extends ImbotError {
  readonly problem: WebhookProblem;
  readonly status: number;
  /**
   * The request's body was left unread (too large to drain, or stalled): the answer must close the
   * connection, or the next request on it would never be read.
   */
  readonly closeConnection: boolean;

  constructor(problem: WebhookProblem, message: string, options: { closeConnection?: boolean } = {}) {
    super('WEBHOOK_VERIFICATION', message);
    this.problem = problem;
    this.status = webhookStatus[problem];
    this.closeConnection = options.closeConnection ?? false;
  }
}

/**
 * A user message was acknowledged to the cloud but not handled: the receiver was closed before its
 * turn came (see `close({ timeoutMs })`). Reported through `onError` with the message.
 */
export class NotHandledError extends ImbotError {
  constructor(message: string) {
    super('NOT_HANDLED', message);
  }
}

/**
 * An answer in progress was interrupted: a newer message from the same user came in under the
 * `interrupt` concurrency policy. The answer's `reply.signal` aborts with it.
 */
export class InterruptedError extends ImbotError {
  constructor(message: string) {
    super('INTERRUPTED', message);
  }
}

/**
 * The user stopped the answer in progress (a stop word such as `/stop`, or the cloud's own interrupt
 * message). The answer's `reply.signal` aborts with it; its stream ends with the text shown so far.
 */
export class StoppedError extends ImbotError {
  /** Who asked to stop. */
  readonly by: string;
  constructor(by: string) {
    super('STOPPED', 'the user stopped this answer');
    this.by = by;
  }
}

/** A resource was used after `close()` (a shared rate limiter, say). */
export class ClosedError extends ImbotError {
  constructor(message: string) {
    super('CLOSED', message);
  }
}

/** Text was written to a stream session that has ended, is ending, or failed. */
export class StreamClosedError extends ImbotError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('STREAM_CLOSED', message, options);
  }
}

/**
 * The text source piped into a stream session failed (the model was unreachable, say). The message
 * was closed with what had been written; `cause` is the source's own error.
 */
export class StreamSourceError extends ImbotError {
  constructor(cause: unknown) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    super('STREAM_SOURCE', `the text source failed: ${detail}`, { cause });
  }
}

/** Whether sending the same call again may succeed: a passing fault, not a mistake in the call. */
export function isTransient(error: unknown): boolean {
  if (error instanceof ApiError) return error.retryable || error.code === 'MALFORMED_RESPONSE';
  return error instanceof NetworkError || error instanceof TimeoutError;
}

/**
 * Whether a failed call may have been carried out anyway: the cloud may or may not have applied it.
 * An answer with the cloud's own error code (a `CloudApiError`) is a refusal: nothing was applied. A gateway's status, a garbled answer, a timeout or a dropped connection after
 * the request was written leave it unknown.
 */
export function outcomeUnknown(error: unknown): boolean {
  if (error instanceof TimeoutError) return true;
  if (error instanceof NetworkError) return error.sent;
  if (error instanceof CloudApiError) return false;
  if (error instanceof ApiError) {
    return error.code === 'MALFORMED_RESPONSE' || (error.status !== 429 && error.status !== 503);
  }
  return false;
}

import { randomFillSync } from 'node:crypto';
import type { z } from 'zod';
import { ApiError, TencentApiError } from '../errors.js';
import type { HttpAnswer } from '../http/transport.js';
import { tencentHints, tencentRetryCodes } from './codes.js';
import { envelope } from './schemas.js';

/** Random uint32s drawn from the system's CSPRNG 1,024 at a time: one syscall per 1,024 calls. */
const randomPool = new Uint32Array(1024);
let randomLeft = 0;

/** A uint32, as the REST API wants for `random`, `MsgRandom` and `MsgSeq`. */
export function randomUint32(): number {
  if (randomLeft === 0) {
    randomFillSync(randomPool);
    randomLeft = randomPool.length;
  }
  return randomPool[--randomLeft] as number;
}

export interface TencentQuery {
  sdkAppId: number;
  identifier: string;
  userSig: string;
  random: number;
}

/**
 * The query of a REST call up to its `random` value: `sdkappid=…&identifier=…&usersig=…&random=`.
 * It changes only with the UserSig, so a client builds it once per UserSig.
 */
export function tencentQueryHead(query: Omit<TencentQuery, 'random'>): string {
  return `sdkappid=${query.sdkAppId}&identifier=${encodeURIComponent(query.identifier)}&usersig=${encodeURIComponent(query.userSig)}&random=`;
}

/**
 * The path and query of a REST call: `/v4/<service>/<command>?sdkappid=…&identifier=…&usersig=…
 * &random=…&contenttype=json`. `prefix` is the base URL's own path, if any. Built by concatenation:
 * only the identifier and the UserSig can hold characters to escape.
 */
export function tencentRequestPath(prefix: string, api: string, query: TencentQuery): string {
  return `${prefix}/v4/${api}?${tencentQueryHead(query)}${query.random}&contenttype=json`;
}

/**
 * Reads an answer: HTTP 200, a JSON body matching the envelope and then `schema`, and
 * `ErrorCode` 0. Anything else becomes an `ApiError` (`HTTP_STATUS`, `MALFORMED_RESPONSE`) or a
 * `TencentApiError` carrying the cloud's code and `RequestId`. `ErrorInfo` goes through `redact`,
 * since the cloud may quote the request back.
 */
export function readTencentAnswer<S extends z.ZodType>(
  answer: HttpAnswer,
  endpoint: string,
  schema: S,
  redact: (text: string) => string,
): z.output<S> {
  if (answer.status !== 200) {
    const retryable = answer.status >= 500 || answer.status === 429;
    throw new ApiError('HTTP_STATUS', `${endpoint} answered HTTP ${answer.status}`, {
      endpoint,
      retryable,
      status: answer.status,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(answer.body);
  } catch {
    throw malformed(endpoint, 'a body that is not JSON');
  }
  // The envelope is checked by hand; the answer's own fields get the one schema pass.
  const head = json as {
    ErrorCode?: unknown;
    ErrorInfo?: unknown;
    ActionStatus?: unknown;
    RequestId?: unknown;
  };
  if (
    typeof head !== 'object' ||
    head === null ||
    typeof head.ErrorCode !== 'number' ||
    !Number.isInteger(head.ErrorCode) ||
    typeof head.ActionStatus !== 'string' ||
    (head.ErrorInfo !== undefined && typeof head.ErrorInfo !== 'string') ||
    (head.RequestId !== undefined && typeof head.RequestId !== 'string')
  ) {
    throw malformed(endpoint, 'no ActionStatus/ErrorCode envelope');
  }
  const requestId = head.RequestId as string | undefined;
  if (head.ErrorCode !== 0 || head.ActionStatus !== 'OK') {
    const code = head.ErrorCode;
    throw new TencentApiError(code, redact((head.ErrorInfo as string | undefined) ?? ''), {
      endpoint,
      retryable: tencentRetryCodes.has(code),
      status: 200,
      requestId,
      hint: tencentHints.get(code),
    });
  }
  if (schema === (envelope as z.ZodType)) {
    if (head.ErrorInfo === undefined) head.ErrorInfo = '';
    return json as z.output<S>;
  }
  const full = schema.safeParse(json);
  if (!full.success) {
    const issue = full.error.issues[0];
    throw malformed(
      endpoint,
      `field ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`,
      requestId,
    );
  }
  return full.data;
}

function malformed(endpoint: string, what: string, requestId?: string): ApiError {
  return new ApiError('MALFORMED_RESPONSE', `${endpoint} answered with ${what}`, {
    endpoint,
    retryable: false,
    status: 200,
    requestId,
  });
}

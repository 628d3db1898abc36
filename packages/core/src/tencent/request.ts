import { randomInt } from 'node:crypto';
import type { z } from 'zod';
import { ApiError, TencentApiError } from '../errors.js';
import type { HttpAnswer } from '../http/transport.js';
import { tencentHints, tencentRetryCodes } from './codes.js';
import { envelope } from './schemas.js';

/** A uint32, as the REST API wants for `random`, `MsgRandom` and `MsgSeq`. */
export function randomUint32(): number {
  return randomInt(0, 2 ** 32);
}

export interface TencentQuery {
  sdkAppId: number;
  identifier: string;
  userSig: string;
  random: number;
}

/**
 * The path and query of a REST call: `/v4/<service>/<command>?sdkappid=…&identifier=…&usersig=…
 * &random=…&contenttype=json`. `prefix` is the base URL's own path, if any.
 */
export function tencentRequestPath(prefix: string, api: string, query: TencentQuery): string {
  const search = new URLSearchParams({
    sdkappid: String(query.sdkAppId),
    identifier: query.identifier,
    usersig: query.userSig,
    random: String(query.random),
    contenttype: 'json',
  });
  return `${prefix}/v4/${api}?${search.toString()}`;
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
  const head = envelope.safeParse(json);
  if (!head.success) throw malformed(endpoint, 'no ActionStatus/ErrorCode envelope');
  const { ErrorCode, ErrorInfo, ActionStatus, RequestId } = head.data;
  if (ErrorCode !== 0 || ActionStatus !== 'OK') {
    throw new TencentApiError(ErrorCode, redact(ErrorInfo), {
      endpoint,
      retryable: tencentRetryCodes.has(ErrorCode),
      status: 200,
      requestId: RequestId,
      hint: tencentHints.get(ErrorCode),
    });
  }
  const full = schema.safeParse(json);
  if (!full.success) {
    const issue = full.error.issues[0];
    throw malformed(
      endpoint,
      `field ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`,
      RequestId,
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

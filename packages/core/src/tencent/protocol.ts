import { randomFillSync } from 'node:crypto';
import type { z } from 'zod';
import { ApiError } from '../errors.js';
import type { CloudProtocol, Exchange } from '../wire/request.js';
import type { RetryDecision } from '../wire/retry.js';
import type { HttpAnswer } from '../wire/transport.js';
import { tencentHints, tencentRetryCodes } from './codes.js';
import type { AdminUserSig } from './credentials.js';
import { TencentApiError } from './errors.js';
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

/** Who signs a REST call: the app, its admin, and the admin's UserSig. */
export interface TencentQuery {
  sdkAppId: number;
  identifier: string;
  userSig: string;
}

/**
 * The query of a REST call up to its `random` value: `sdkappid=…&identifier=…&usersig=…&random=`.
 * It changes only with the UserSig, so a client builds it once per UserSig.
 */
export function tencentQueryHead(query: TencentQuery): string {
  return `sdkappid=${query.sdkAppId}&identifier=${encodeURIComponent(query.identifier)}&usersig=${encodeURIComponent(query.userSig)}&random=`;
}

/**
 * The path and query of a REST call after the domain's own path: `/v4/<service>/<command>?sdkappid=…
 * &identifier=…&usersig=…&random=…&contenttype=json`, from the query's head (`tencentQueryHead`).
 * Built by concatenation: only the identifier and the UserSig can hold characters to escape, and the
 * head has them escaped already.
 */
export function tencentRequestPath(api: string, queryHead: string, random: number): string {
  return `/v4/${api}?${queryHead}${random}&contenttype=json`;
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

/** Every request's headers: one object, not one per call. */
const JSON_HEADERS = { 'content-type': 'application/json' };

/**
 * Tencent Cloud Chat's side of the request layer: a call is addressed by its `service/command` path,
 * signed with the admin's UserSig in the query, read through the `ActionStatus`/`ErrorCode` envelope,
 * and judged by the one code table (`tencentRetryCodes`), where an expired UserSig is renewed and the
 * call sent once more at once.
 */
export class TencentProtocol implements CloudProtocol {
  readonly cloud = 'tencent';
  readonly #userSig: AdminUserSig;
  readonly #identity: { sdkAppId: number; identifier: string };
  #head: { userSig: string; text: string } | undefined;

  constructor(userSig: AdminUserSig, identity: { sdkAppId: number; identifier: string }) {
    this.#userSig = userSig;
    this.#identity = identity;
  }

  sign(exchange: Exchange): undefined | Promise<void> {
    const fresh = this.#userSig.fresh;
    if (fresh === undefined) return this.#userSig.get().then((userSig) => this.#address(exchange, userSig));
    this.#address(exchange, fresh);
    return undefined;
  }

  read(answer: HttpAnswer, exchange: Exchange): unknown {
    return readTencentAnswer(answer, exchange.endpoint, exchange.schema, this.#userSig.redact);
  }

  decide(error: unknown): RetryDecision | undefined {
    if (!(error instanceof TencentApiError)) return undefined;
    const rule = tencentRetryCodes.get(error.errorCode);
    if (rule?.kind === 'renew-usersig') {
      this.#userSig.invalidate();
      return 'again';
    }
    return rule?.kind === 'backoff' ? 'retry' : 'stop';
  }

  redact(text: string): string {
    return this.#userSig.redact(text);
  }

  #address(exchange: Exchange, userSig: string): void {
    exchange.path = tencentRequestPath(exchange.api, this.#queryHead(userSig), randomUint32());
    exchange.headers = JSON_HEADERS;
  }

  /** The query up to `random=` for `userSig`, built again only when the UserSig changes. */
  #queryHead(userSig: string): string {
    if (this.#head?.userSig !== userSig) {
      this.#head = { userSig, text: tencentQueryHead({ ...this.#identity, userSig }) };
    }
    return this.#head.text;
  }
}

import type { z } from 'zod';
import { ApiError } from '../errors.js';
import { redactSecrets } from '../redact.js';
import { type SecretSource, withSecret } from '../secret.js';
import type { CloudProtocol, Exchange } from '../wire/request.js';
import type { HttpAnswer } from '../wire/transport.js';
import { rongCloudHints, rongCloudRetryCodes } from './codes.js';
import { RongCloudApiError } from './errors.js';
import { rongEnvelope } from './schemas.js';
import { rongCloudHeaders } from './signature.js';

/**
 * RongCloud's side of the request layer: a call is addressed by its path (`/v3/bot/get.json`),
 * signed afresh in four headers (App-Key, Nonce, Timestamp, Signature), read through the `code`
 * envelope, and judged by the one code table (`rongCloudRetryCodes`, read into each error's
 * `retryable`).
 */
export class RongCloudProtocol implements CloudProtocol {
  readonly cloud = 'rongcloud';
  readonly #appKey: string;
  readonly #appSecret: SecretSource;

  constructor(credentials: { appKey: string; appSecret: SecretSource }) {
    this.#appKey = credentials.appKey;
    this.#appSecret = credentials.appSecret;
  }

  /** Signs with the App Secret in force: at once for a plain value, after asking a function for one. */
  sign(exchange: Exchange): undefined | Promise<void> {
    const signed = withSecret(this.#appSecret, (appSecret) => {
      const headers = rongCloudHeaders({ appKey: this.#appKey, appSecret });
      headers['content-type'] = exchange.contentType;
      exchange.path = exchange.api;
      exchange.headers = headers;
      // What the cloud quotes back may hold this request's signature.
      exchange.secret = headers.Signature;
    });
    return signed instanceof Promise ? signed : undefined;
  }

  read(answer: HttpAnswer, exchange: Exchange): unknown {
    return readRongAnswer(answer, exchange.endpoint, exchange.schema, (text) => this.redact(text, exchange));
  }

  decide(): undefined {
    return undefined;
  }

  redact(text: string, exchange: Exchange): string {
    return redactSecrets(text, [...this.#appSecret.known, exchange.secret]);
  }
}

/**
 * Reads an answer: RongCloud mirrors its business code in the HTTP status, so the envelope is read
 * whatever the status; `code` 200 is success, anything else a `RongCloudApiError`, whose
 * `errorMessage` goes through `redact` (a cloud may quote the request's credentials back).
 */
export function readRongAnswer<S extends z.ZodType>(
  answer: HttpAnswer,
  endpoint: string,
  schema: S,
  redact: (text: string) => string = (text) => text,
): z.output<S> {
  let json: unknown;
  try {
    json = JSON.parse(answer.body);
  } catch {
    if (answer.status !== 200) {
      throw new ApiError('HTTP_STATUS', `${endpoint} answered HTTP ${answer.status}`, {
        endpoint,
        retryable: answer.status >= 500 || answer.status === 429,
        status: answer.status,
      });
    }
    throw new ApiError('MALFORMED_RESPONSE', `${endpoint} answered with a body that is not JSON`, {
      endpoint,
      retryable: false,
      status: 200,
    });
  }
  // The code is checked by hand; the answer's own fields get the one schema pass.
  const head = json as { code?: unknown; errorMessage?: unknown } | null;
  if (
    typeof head !== 'object' ||
    head === null ||
    typeof head.code !== 'number' ||
    !Number.isInteger(head.code) ||
    (head.errorMessage !== undefined && typeof head.errorMessage !== 'string')
  ) {
    throw new ApiError('MALFORMED_RESPONSE', `${endpoint} answered without a code`, {
      endpoint,
      retryable: false,
      status: answer.status,
    });
  }
  if (head.code !== 200) {
    throw new RongCloudApiError(head.code, redact((head.errorMessage as string | undefined) ?? ''), {
      endpoint,
      retryable: rongCloudRetryCodes.has(head.code),
      status: answer.status,
      hint: rongCloudHints.get(head.code),
    });
  }
  if (schema === (rongEnvelope as z.ZodType)) return json as z.output<S>;
  const full = schema.safeParse(json);
  if (!full.success) {
    const issue = full.error.issues[0];
    throw new ApiError(
      'MALFORMED_RESPONSE',
      `${endpoint} answered with field ${issue?.path.join('.')}: ${issue?.message}`,
      {
        endpoint,
        retryable: false,
        status: answer.status,
      },
    );
  }
  return full.data;
}

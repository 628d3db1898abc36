import { ImbotError, WebhookVerificationError } from '../errors.js';

/** An HTTP answer to a webhook request, in a form every framework can write. */
export interface WebhookAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** The JSON body every entry gives a refusal: the error's `code`, its `problem` and its message. */
export function refusalAnswer(error: ImbotError): WebhookAnswer {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (error instanceof WebhookVerificationError && error.closeConnection) headers.connection = 'close';
  const body: Record<string, string> = { error: error.code, message: error.message };
  if (error instanceof WebhookVerificationError) body.problem = error.problem;
  const status =
    error instanceof WebhookVerificationError ? error.status : error.code === 'SHUTTING_DOWN' ? 503 : 500;
  return { status, headers, body: JSON.stringify(body) };
}

/** The answer to a request that came while the receiver is closing: the cloud will deliver it again. */
export function shuttingDown(): WebhookAnswer {
  return refusalAnswer(new ImbotError('SHUTTING_DOWN', 'the receiver is shutting down; deliver again later'));
}

/**
 * The answer to a webhook request of another method than POST: 405, naming the methods the route
 * takes (`GET, POST` where it also answers the health check).
 */
export function methodNotAllowed(allow: string): WebhookAnswer {
  return {
    status: 405,
    headers: { allow, 'content-type': 'application/json' },
    body: JSON.stringify({ error: 'METHOD_NOT_ALLOWED', message: 'the webhook takes POST only' }),
  };
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import { WebhookVerificationError } from '@imbot/core';
import { readNodeRequest } from '@imbot/core/internal';

/**
 * Thrown by `readBody` when a request is larger than allowed (or stalls); `closeConnection` says the
 * body was left unread, so the answer must close the connection.
 */
export class BodyTooLarge extends Error {
  constructor(
    message: string,
    readonly closeConnection: boolean,
  ) {
    super(message);
  }
}

/** A body not complete this long after its headers is refused. */
const BODY_TIMEOUT_MS = 30_000;

/**
 * Reads a request body as UTF-8, refusing more than `maxBytes`, with the same reader the library's
 * webhooks use: a refused body is drained, or the connection closed, so the socket never wedges.
 */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  try {
    const request = await readNodeRequest(req, { maxBytes, timeoutMs: BODY_TIMEOUT_MS });
    return String(request.rawBody ?? '');
  } catch (error) {
    if (!(error instanceof WebhookVerificationError)) throw error;
    throw new BodyTooLarge(error.message, error.closeConnection);
  }
}

/** Answers with a JSON body. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** Answers with plain text. */
export function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  type = 'text/plain; charset=utf-8',
  extra: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text), ...extra });
  res.end(text);
}

/** Answers a refused body: 413, closing the connection when the body was left unread. */
export function sendTooLarge(res: ServerResponse, error: BodyTooLarge): void {
  sendText(
    res,
    413,
    'request body too large',
    undefined,
    error.closeConnection ? { connection: 'close' } : {},
  );
}

import { WebhookVerificationError } from '../errors.js';
import type { WebhookRequest } from '../platform.js';

/** How much of a webhook body is read, and for how long. */
export interface BodyLimits {
  /** Larger bodies are refused with 413. */
  maxBytes: number;
  /** A body not complete this long after its headers is refused with 408. */
  timeoutMs: number;
}

/**
 * A refused body is still read and thrown away, up to this many times `maxBytes`, so the
 * connection stays usable for the next request; past it, the connection is closed instead.
 */
const DRAIN_FACTOR = 4;

/** What `readNodeRequest` needs of a request: Node's `IncomingMessage`, maybe with a parsed body. */
export interface NodeRequestLike {
  headers: Record<string, string | string[] | undefined>;
  url?: string | undefined;
  /** Set by Express's `express.json({ verify })`, Firebase and others. */
  rawBody?: unknown;
  /** Set by a body parser that ran before. */
  body?: unknown;
  readableEnded?: boolean;
  on(event: 'data', listener: (chunk: Buffer | string) => void): unknown;
  on(event: 'end' | 'close', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  removeAllListeners?(event?: string): unknown;
  destroy?(error?: Error): unknown;
}

const HOW_TO_MOUNT =
  'the webhook body was consumed before imbot could read it: mount imbot before body parsers, ' +
  'or keep the bytes with express.json({ verify: (req, _res, buf) => { req.rawBody = buf } })';

/**
 * Reads a webhook request from Node's HTTP objects, whatever ran before: raw bytes kept as
 * `rawBody`, a Buffer or string `body` (express.raw, express.text), an object `body` (express.json),
 * or the stream itself. A body over `maxBytes` is refused (413) and drained, or the connection is
 * closed when draining it would cost too much; a body that stalls is refused (408) and the connection
 * closed. Either way the socket never wedges.
 */
export async function readNodeRequest(req: NodeRequestLike, limits: BodyLimits): Promise<WebhookRequest> {
  const query = new URL(req.url ?? '/', 'http://localhost').searchParams;
  const base = { query, headers: req.headers };
  const given = typeof req.rawBody === 'string' || Buffer.isBuffer(req.rawBody) ? req.rawBody : undefined;
  const body = typeof req.body === 'string' || Buffer.isBuffer(req.body) ? req.body : undefined;
  const bytes = given ?? body;
  if (bytes !== undefined) {
    if (Buffer.byteLength(bytes) > limits.maxBytes) throw tooLarge(limits.maxBytes, false);
    return { ...base, rawBody: bytes };
  }
  if (req.body !== undefined && req.body !== null && typeof req.body === 'object')
    return { ...base, parsedBody: req.body };
  if (req.readableEnded) throw new WebhookVerificationError('raw-body-unavailable', HOW_TO_MOUNT);
  const declared = Number(req.headers['content-length']);
  if (declared > limits.maxBytes * DRAIN_FACTOR) throw tooLarge(limits.maxBytes, true);
  return { ...base, rawBody: await readStream(req, limits) };
}

function readStream(req: NodeRequestLike, { maxBytes, timeoutMs }: BodyLimits): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const refuse = (error: WebhookVerificationError) => {
      settled = true;
      chunks.length = 0;
      clearTimeout(timer);
      reject(error);
    };
    const timer = setTimeout(() => refuse(bodyTimeout(timeoutMs)), timeoutMs);
    req.on('data', (chunk) => {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += buffer.length;
      // Refused: keep reading to drain it, unless there is too much to drain.
      if (settled) {
        if (size > maxBytes * DRAIN_FACTOR) req.destroy?.();
        return;
      }
      if (size > maxBytes) return refuse(tooLarge(maxBytes, false));
      chunks.push(buffer);
    });
    req.on('end', () => {
      clearTimeout(timer);
      if (!settled) {
        settled = true;
        resolve(Buffer.concat(chunks, size));
      }
    });
    req.on('error', (error) => {
      if (!settled)
        refuse(new WebhookVerificationError('malformed', `webhook body unreadable: ${error.message}`));
    });
  });
}

/**
 * Reads a web-standard `Request` (Hono, Next.js route handlers, Bun, Deno, workers) into a webhook
 * request, with the same limits and the same draining as `readNodeRequest`.
 */
export async function readFetchRequest(request: Request, limits: BodyLimits): Promise<WebhookRequest> {
  const headers: Record<string, string> = {};
  request.headers.forEach((value, name) => {
    headers[name] = value;
  });
  const base = { query: new URL(request.url).searchParams, headers };
  if (Number(headers['content-length']) > limits.maxBytes * DRAIN_FACTOR) {
    await request.body?.cancel().catch(() => undefined);
    throw tooLarge(limits.maxBytes, true);
  }
  if (!request.body) return { ...base, rawBody: Buffer.alloc(0) };
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(bodyTimeout(limits.timeoutMs)), limits.timeoutMs);
  });
  try {
    for (;;) {
      const { done, value } = await Promise.race([reader.read(), deadline]);
      if (done) break;
      size += value.byteLength;
      // Over the limit: read on and throw it away, so the connection stays usable, up to a point.
      if (size > limits.maxBytes * DRAIN_FACTOR) throw tooLarge(limits.maxBytes, true);
      if (size <= limits.maxBytes) chunks.push(value);
    }
  } catch (error) {
    reader.cancel().catch(() => undefined);
    if (error instanceof WebhookVerificationError) throw error;
    throw new WebhookVerificationError('malformed', `webhook body unreadable: ${(error as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
  if (size > limits.maxBytes) throw tooLarge(limits.maxBytes, false);
  return { ...base, rawBody: Buffer.concat(chunks, size) };
}

function bodyTimeout(timeoutMs: number): WebhookVerificationError {
  return new WebhookVerificationError('body-timeout', `webhook body not complete within ${timeoutMs} ms`, {
    closeConnection: true,
  });
}

function tooLarge(maxBytes: number, closeConnection: boolean): WebhookVerificationError {
  return new WebhookVerificationError('too-large', `webhook body over ${maxBytes} bytes`, {
    closeConnection,
  });
}

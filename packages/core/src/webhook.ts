import { WebhookVerificationError } from './errors.js';
import type { BotPlatform, InboundMessage, ParsedWebhook, WebhookRequest } from './platform.js';

export interface WebhookReceiverOptions {
  platform: BotPlatform;
  /** The app's bots: only messages to them are delivered, and messages from them are ignored. */
  botIds: Iterable<string>;
  /** The callback token (Tencent) configured in the cloud's console. */
  token?: string | undefined;
  /** How long a message key is remembered to drop redeliveries. Default 10 minutes. */
  dedupTtlMs?: number;
  /** Clock in milliseconds since the epoch; injectable for tests. */
  now?: () => number;
}

/** Keys remembered at most, so a flood of distinct messages cannot grow memory without bound. */
const MAX_REMEMBERED = 100_000;

/**
 * The framework-neutral heart of receiving webhooks: verify (signature, freshness, app id), parse,
 * drop redeliveries (by message key, for 10 minutes), drop messages the app's own bots sent, and keep
 * only messages to the app's bots. The Express middleware and the Bot Framework adapter are thin
 * layers over it.
 */
export class WebhookReceiver {
  readonly platform: BotPlatform;
  readonly #bots: Set<string>;
  readonly #token: string | undefined;
  readonly #ttlMs: number;
  readonly #now: () => number;
  /** Message keys seen, with the time each expires; in insertion order, so the oldest come first. */
  readonly #seen = new Map<string, number>();

  constructor(options: WebhookReceiverOptions) {
    this.platform = options.platform;
    this.#bots = new Set(options.botIds);
    this.#token = options.token;
    this.#ttlMs = options.dedupTtlMs ?? 10 * 60_000;
    this.#now = options.now ?? Date.now;
  }

  /** What to answer the cloud once a request is accepted. */
  get answer(): BotPlatform['webhookAnswer'] {
    return this.platform.webhookAnswer;
  }

  /**
   * Verifies and parses a request, returning the messages to hand to the app (new, to one of its
   * bots, not from one of them) and any other events. Throws `WebhookVerificationError`.
   */
  accept(request: WebhookRequest): ParsedWebhook {
    this.platform.verifyWebhook(request, { token: this.#token, now: Math.floor(this.#now() / 1000) });
    const parsed = this.platform.parseWebhook(request);
    return { messages: parsed.messages.filter((m) => this.#fresh(m)), events: parsed.events };
  }

  #fresh(message: InboundMessage): boolean {
    if (!this.#bots.has(message.botId) || this.#bots.has(message.from)) return false;
    const now = this.#now();
    for (const [key, expires] of this.#seen) {
      if (expires > now && this.#seen.size < MAX_REMEMBERED) break;
      this.#seen.delete(key);
    }
    const key = `${message.botId}\u0000${message.messageKey}`;
    if (this.#seen.has(key)) return false;
    this.#seen.set(key, now + this.#ttlMs);
    return true;
  }
}

/** What `readNodeRequestBody` needs of a request: Node's `IncomingMessage`, maybe with a parsed body. */
export interface NodeRequestLike extends AsyncIterable<unknown> {
  headers: Record<string, string | string[] | undefined>;
  url?: string | undefined;
  /** Set by Express's `express.json({ verify })`, Firebase and others. */
  rawBody?: unknown;
  /** Set by a body parser that ran before. */
  body?: unknown;
  readableEnded?: boolean;
}

const HOW_TO_MOUNT =
  'the webhook body was consumed before imbot could read it: mount imbot before body parsers, ' +
  'or keep the bytes with express.json({ verify: (req, _res, buf) => { req.rawBody = buf } })';

/**
 * Reads a webhook request from Node's HTTP objects, whatever ran before: raw bytes kept as
 * `rawBody`, a Buffer or string `body` (express.raw, express.text), an object `body` (express.json),
 * or the stream itself, refusing more than `maxBytes`.
 */
export async function readNodeRequest(req: NodeRequestLike, maxBytes: number): Promise<WebhookRequest> {
  const query = new URL(req.url ?? '/', 'http://localhost').searchParams;
  const base = { query, headers: req.headers };
  const given = typeof req.rawBody === 'string' || Buffer.isBuffer(req.rawBody) ? req.rawBody : undefined;
  const body = typeof req.body === 'string' || Buffer.isBuffer(req.body) ? req.body : undefined;
  const bytes = given ?? body;
  if (bytes !== undefined) {
    if (Buffer.byteLength(bytes) > maxBytes) throw tooLarge(maxBytes);
    return { ...base, rawBody: bytes };
  }
  if (req.body !== undefined && req.body !== null && typeof req.body === 'object')
    return { ...base, parsedBody: req.body };
  if (req.readableEnded) throw new WebhookVerificationError('raw-body-unavailable', HOW_TO_MOUNT);
  const declared = Number(req.headers['content-length']);
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > maxBytes) throw tooLarge(maxBytes);
    chunks.push(buffer);
  }
  return { ...base, rawBody: Buffer.concat(chunks) };
}

function tooLarge(maxBytes: number): WebhookVerificationError {
  return new WebhookVerificationError('too-large', `webhook body over ${maxBytes} bytes`);
}

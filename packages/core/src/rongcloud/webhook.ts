import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { WebhookVerificationError } from '../errors.js';
import {
  type InboundAttachment,
  type InboundMessage,
  type ParsedWebhook,
  stripMentions,
} from '../platform.js';
import { signRongCloud } from './signature.js';

/** Callbacks older or newer than this are refused: RongCloud documents no window, so imbot sets one. */
export const RONGCLOUD_CALLBACK_TOLERANCE_MS = 5 * 60_000;

/**
 * Remembers the nonces of accepted callbacks for as long as their timestamps are fresh, so that a
 * captured request sent again is refused. One per receiving process.
 */
export class NonceCache {
  readonly #seen = new Map<string, number>();

  constructor(readonly ttlMs: number = RONGCLOUD_CALLBACK_TOLERANCE_MS * 2) {}

  /** True the first time `key` is offered within `ttlMs`, false on a repeat. */
  remember(key: string, now: number): boolean {
    for (const [k, expires] of this.#seen) {
      if (expires > now) break;
      this.#seen.delete(k);
    }
    if (this.#seen.has(key)) return false;
    this.#seen.set(key, now + this.ttlMs);
    return true;
  }
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name] ?? headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Checks a callback's signature as RongCloud signs them: `appKey`, `nonce`, `timestamp` (or
 * `signTimestamp`) and `signature` in the query, or the `RC-*` headers; `signature` must be
 * `sha1(appSecret + nonce + timestamp)` (constant-time compare), the timestamp (ms or s) within
 * 5 minutes of now, and the nonce not seen before.
 */
export function verifyRongCloudCallback(
  query: URLSearchParams,
  headers: Record<string, string | string[] | undefined>,
  options: { appKey: string; appSecret: string; now?: number; nonces?: NonceCache },
): void {
  const get = (name: string, headerName: string) => query.get(name) ?? header(headers, headerName);
  const appKey = get('appKey', 'rc-app-key');
  const nonce = get('nonce', 'rc-nonce');
  const timestamp = get('timestamp', 'rc-timestamp') ?? query.get('signTimestamp');
  const signature = get('signature', 'rc-signature');
  if (appKey !== undefined && appKey !== null && appKey !== options.appKey) {
    throw new WebhookVerificationError(
      'app-mismatch',
      `callback for App Key ${appKey}, not ${options.appKey}`,
    );
  }
  if (!nonce || !timestamp || !signature) {
    throw new WebhookVerificationError(
      'missing-signature',
      'callback without nonce, timestamp and signature',
    );
  }
  const now = options.now ?? Date.now();
  const value = Number(timestamp);
  const ms = value > 1e12 ? value : value * 1000;
  if (!/^\d+$/.test(timestamp) || Math.abs(now - ms) > RONGCLOUD_CALLBACK_TOLERANCE_MS) {
    throw new WebhookVerificationError('stale', 'callback timestamp is more than 5 minutes from now');
  }
  const expected = Buffer.from(signRongCloud({ appSecret: options.appSecret, nonce, timestamp }), 'utf8');
  const actual = Buffer.from(signature.toLowerCase(), 'utf8');
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
    throw new WebhookVerificationError('bad-signature', 'callback signature does not match the App Secret');
  }
  if (options.nonces && !options.nonces.remember(`${nonce}:${timestamp}`, now)) {
    throw new WebhookVerificationError('replayed', 'callback nonce was already used');
  }
}

const callback = z.looseObject({
  type: z.string(),
  timestamp: z.number(),
  bot: z.looseObject({ userId: z.string() }).optional(),
  data: z.looseObject({
    fromUserId: z.string(),
    toUserId: z.string().optional(),
    groupId: z.string().optional(),
    objectName: z.string(),
    content: z.string(),
    channelType: z.string().optional(),
    msgUID: z.string().optional(),
  }),
});

/** A RongCloud message content that is not text, described in neutral words. */
function rongAttachment(objectName: string, content: Record<string, unknown>): InboundAttachment {
  const a = (kind: InboundAttachment['kind'], url: unknown, name?: unknown): InboundAttachment => {
    const attachment: InboundAttachment = { kind, raw: { objectName, content } };
    if (typeof url === 'string' && url) attachment.url = url;
    if (typeof name === 'string' && name) attachment.name = name;
    return attachment;
  };
  switch (objectName) {
    case 'RC:ImgMsg':
      return a('image', content.imageUri);
    case 'RC:FileMsg':
      return a('file', content.fileUrl, content.name);
    case 'RC:HQVCMsg':
      return a('audio', content.remoteUrl);
    case 'RC:SightMsg':
      return a('video', content.sightUrl, content.name);
    default:
      return { kind: 'other', raw: { objectName, content } };
  }
}

/**
 * Turns a bot webhook body into inbound messages: `message:private` and `message:group` give one
 * (the callback is per bot); other event types are passed through.
 */
export function parseRongCloudCallback(body: unknown): ParsedWebhook {
  const type = (body as { type?: unknown } | null)?.type;
  if (typeof type !== 'string') throw new WebhookVerificationError('malformed', 'callback body has no type');
  if (type !== 'message:private' && type !== 'message:group')
    return { messages: [], events: [{ command: type, raw: body }] };
  const parsed = callback.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new WebhookVerificationError(
      'malformed',
      `callback field ${issue?.path.join('.')}: ${issue?.message}`,
    );
  }
  const { data, timestamp, bot } = parsed.data;
  let content: Record<string, unknown>;
  try {
    content = JSON.parse(data.content) as Record<string, unknown>;
  } catch {
    throw new WebhookVerificationError('malformed', 'callback data.content is not JSON');
  }
  const botId = bot?.userId ?? data.toUserId ?? '';
  const mentioned = (content.mentionedInfo as { userIdList?: unknown } | undefined)?.userIdList;
  const mentions = Array.isArray(mentioned)
    ? mentioned.filter((m): m is string => typeof m === 'string')
    : [];
  const rawText =
    data.objectName === 'RC:TxtMsg' && typeof content.content === 'string' ? content.content : '';
  const group = type === 'message:group' ? (data.groupId ?? data.toUserId ?? '') : undefined;
  const message: InboundMessage = {
    platform: 'rongcloud',
    botId,
    from: data.fromUserId,
    conversation:
      group !== undefined ? { type: 'group', groupId: group } : { type: 'c2c', userId: data.fromUserId },
    text: stripMentions(rawText, mentions),
    rawText,
    mentions,
    messageKey: data.msgUID ?? `${data.fromUserId}:${timestamp}`,
    time: new Date(timestamp),
    attachments: data.objectName === 'RC:TxtMsg' ? [] : [rongAttachment(data.objectName, content)],
    raw: body,
  };
  // A group message reaches a bot only when it is @-mentioned.
  if (group !== undefined && !mentions.includes(botId)) return { messages: [], events: [] };
  return { messages: [message], events: [] };
}

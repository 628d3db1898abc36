import { timingSafeEqual } from 'node:crypto';
import * as z from 'zod';
import { WebhookVerificationError } from '../errors.js';
import { parseButtonPress } from '../message/rich.js';
import {
  type InboundAttachment,
  type InboundMessage,
  type ParsedWebhook,
  stripMentions,
} from '../platform.js';
import { BUTTON_OBJECT_NAME } from './elements.js';
import { signRongCloud } from './signature.js';

/**
 * How far a callback's timestamp may be from now, either way, unless told otherwise. RongCloud
 * documents no window, so imbot uses the same one as for Tencent callbacks.
 */
export const RONGCLOUD_CALLBACK_TOLERANCE_MS = 60_000;

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name] ?? headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Checks a callback's signature as RongCloud signs them: `appKey`, `nonce`, `timestamp` (or
 * `signTimestamp`) and `signature` in the query, or the `RC-*` headers; `signature` must be
 * `sha1(appSecret + nonce + timestamp)` (constant-time compare) and the timestamp (ms or s) within
 * `toleranceMs` (default 60 s) of now. Returns the replay key (nonce and timestamp) and how long to
 * remember it: the receiver refuses a key it has seen (its `SeenStore`).
 */
export function verifyRongCloudCallback(
  query: URLSearchParams,
  headers: Record<string, string | string[] | undefined>,
  options: { appKey: string; appSecret: string; now?: number | undefined; toleranceMs?: number | undefined },
): { replayKey: string; replayTtlMs: number } {
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
  const tolerance = options.toleranceMs ?? RONGCLOUD_CALLBACK_TOLERANCE_MS;
  const value = Number(timestamp);
  const ms = value > 1e12 ? value : value * 1000;
  if (!/^\d+$/.test(timestamp) || !(Math.abs(now - ms) <= tolerance)) {
    throw new WebhookVerificationError(
      'stale',
      `callback timestamp is ${Math.round(Math.abs(now - ms) / 1000)} s from now; at most ${tolerance / 1000} s is accepted`,
    );
  }
  const expected = Buffer.from(signRongCloud({ appSecret: options.appSecret, nonce, timestamp }), 'utf8');
  const actual = Buffer.from(signature.toLowerCase(), 'utf8');
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
    throw new WebhookVerificationError('bad-signature', 'callback signature does not match the App Secret');
  }
  // Fresh for `tolerance` on either side of its timestamp: remembered until it could no longer pass.
  return { replayKey: `${nonce}:${timestamp}`, replayTtlMs: Math.max(1, ms + tolerance - now) };
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
  // A card's button press arrives as its own message type, its value standing for typed text.
  const action = data.objectName === BUTTON_OBJECT_NAME ? parseButtonPress(content) : undefined;
  const rawText = action
    ? action.value
    : data.objectName === 'RC:TxtMsg' && typeof content.content === 'string'
      ? content.content
      : '';
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
    attachments: data.objectName === 'RC:TxtMsg' || action ? [] : [rongAttachment(data.objectName, content)],
    ...(action ? { action } : {}),
    raw: body,
  };
  // A group message reaches a bot only when it is @-mentioned.
  if (group !== undefined && !mentions.includes(botId)) return { messages: [], events: [] };
  return { messages: [message], events: [] };
}

import { createHash, timingSafeEqual } from 'node:crypto';
import * as z from 'zod';
import { WebhookVerificationError } from '../errors.js';
import { parseButtonPress } from '../message/rich.js';
import {
  type InboundAttachment,
  type InboundMessage,
  type ParsedWebhook,
  stripMentions,
} from '../platform.js';
import { chatbotTextOf, parseChatbotData, TUIKIT_SRC } from './tuikit.js';

/**
 * The `Sign` of a callback when a token is configured: hex SHA-256 of the token followed by
 * `RequestTime` (seconds), a plain digest rather than an HMAC, as the cloud computes it.
 */
export function tencentCallbackSign(token: string, requestTime: number | string): string {
  return createHash('sha256').update(`${token}${requestTime}`).digest('hex');
}

/** How far `RequestTime` may be from now, either way, unless told otherwise. */
export const TENCENT_CALLBACK_TOLERANCE_SECONDS = 60;

/**
 * Checks a callback's query as the cloud sends it: `SdkAppid` must be this app; `Sign` must equal
 * `sha256(token + RequestTime)` (compared in constant time) and `RequestTime` must be within
 * `toleranceSeconds` (default 60) of now, either way. Without a token the cloud signs nothing: such
 * callbacks are refused unless `allowUnsigned` says to accept them on the app id alone.
 */
export function verifyTencentCallback(
  query: URLSearchParams,
  sdkAppId: number,
  options: {
    token?: string | undefined;
    now?: number | undefined;
    toleranceSeconds?: number | undefined;
    allowUnsigned?: boolean | undefined;
  } = {},
): void {
  if (query.get('SdkAppid') !== String(sdkAppId)) {
    throw new WebhookVerificationError(
      'app-mismatch',
      `callback for SdkAppid ${query.get('SdkAppid')}, not ${sdkAppId}`,
    );
  }
  if (!options.token) {
    if (options.allowUnsigned) return;
    throw new WebhookVerificationError(
      'missing-signature',
      'no callback token is configured, so callbacks cannot be verified: give the token of the ' +
        "Chat console's callback settings as callbackToken",
    );
  }
  const tolerance = options.toleranceSeconds ?? TENCENT_CALLBACK_TOLERANCE_SECONDS;
  const sign = query.get('Sign');
  const requestTime = query.get('RequestTime');
  if (!sign || !requestTime) {
    throw new WebhookVerificationError(
      'missing-signature',
      'callback without Sign and RequestTime, but a token is set',
    );
  }
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const skew = Math.abs(now - Number(requestTime));
  if (!/^\d+$/.test(requestTime) || !(skew <= tolerance)) {
    throw new WebhookVerificationError(
      'stale',
      `callback RequestTime is ${skew} s from now; at most ${tolerance} s is accepted`,
    );
  }
  const expected = Buffer.from(tencentCallbackSign(options.token, requestTime), 'utf8');
  const actual = Buffer.from(sign.toLowerCase(), 'utf8');
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
    throw new WebhookVerificationError('bad-signature', 'callback Sign does not match the token');
  }
}

const element = z.looseObject({ MsgType: z.string(), MsgContent: z.unknown() });
const c2cCallback = z.looseObject({
  CallbackCommand: z.literal('Bot.OnC2CMessage'),
  From_Account: z.string(),
  To_Account: z.string(),
  MsgKey: z.string(),
  MsgTime: z.number(),
  MsgBody: z.array(element),
});
/**
 * `Chatbot.OnC2CSignalMessage`: a user sent a robot the legacy plugin's pass-through message
 * (`{chatbotPlugin: 1, src: 3, data}`); `Data` is its `data` string, `EventTime` milliseconds
 * (doc 269/103730, 1047/59057; notes/tuikit-protocol.md §8).
 */
const signalCallback = z.looseObject({
  CallbackCommand: z.literal('Chatbot.OnC2CSignalMessage'),
  From_Account: z.string(),
  To_Account: z.string(),
  MsgKey: z.string(),
  EventTime: z.number(),
  Data: z.string(),
});
const groupCallback = z.looseObject({
  CallbackCommand: z.literal('Bot.OnGroupMessage'),
  GroupId: z.string(),
  From_Account: z.string(),
  MsgSeq: z.number(),
  MsgTime: z.number(),
  MsgBody: z.array(element),
  AtRobots_Account: z.array(z.string()).default([]),
});

const str = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;

/** A message element that is not text, described in neutral words. */
export function tencentAttachment(el: { MsgType: string; MsgContent?: unknown }): InboundAttachment {
  const c = (el.MsgContent ?? {}) as Record<string, unknown>;
  const attachment = (kind: InboundAttachment['kind'], url: unknown, name?: unknown): InboundAttachment => {
    const a: InboundAttachment = { kind, raw: el };
    const u = str(url);
    const n = str(name);
    if (u) a.url = u;
    if (n) a.name = n;
    return a;
  };
  switch (el.MsgType) {
    case 'TIMImageElem': {
      // Type 1 is the original picture, 2 the large one, 3 the thumbnail, in whatever order the
      // array lists them (TIMImageElem, doc 1047/33527).
      const images = Array.isArray(c.ImageInfoArray)
        ? (c.ImageInfoArray as { Type?: unknown; URL?: unknown }[])
        : [];
      const original = images.find((image) => image.Type === 1) ?? images.find((image) => image.Type === 2);
      return attachment('image', (original ?? images[0])?.URL);
    }
    case 'TIMFileElem':
      return attachment('file', c.Url, c.FileName);
    case 'TIMSoundElem':
      return attachment('audio', c.Url);
    case 'TIMVideoFileElem':
      return attachment('video', c.VideoUrl);
    default:
      return { kind: 'other', raw: el };
  }
}

/**
 * The text, attachments and button press of a message body, from a callback or from history. A
 * press is a `TIMCustomElem` whose `Data` is the button-press JSON: its value becomes the text, as
 * if the user had typed it. A streamed message's text is its chunks' markdown.
 */
export function readMsgBody(body: readonly { MsgType: string; MsgContent?: unknown }[]): {
  text: string;
  attachments: InboundAttachment[];
  action?: InboundMessage['action'];
  stop?: true;
  stopMessageId?: string;
  greeting?: true;
} {
  let text = '';
  let action: InboundMessage['action'];
  let robot: Record<string, unknown> | undefined;
  const attachments: InboundAttachment[] = [];
  for (const el of body) {
    const content = el.MsgContent as { Text?: unknown; Data?: unknown } | undefined;
    const custom = el.MsgType === 'TIMCustomElem';
    const press = custom ? parseButtonPress(content?.Data) : undefined;
    const chatbot = custom && !press ? parseChatbotData(content?.Data) : undefined;
    if (el.MsgType === 'TIMTextElem' && typeof content?.Text === 'string') text += content.Text;
    else if (el.MsgType === 'TIMStreamElem') text += streamText(el.MsgContent);
    else if (press) {
      action = press;
      text += press.value;
    } else if (chatbot && (chatbot.src === INTERRUPT_SRC || chatbot.src === TUIKIT_SRC.greeting)) {
      robot ??= chatbot;
    } else if (chatbot && (chatbot.src === TUIKIT_SRC.stream || chatbot.src === TUIKIT_SRC.error)) {
      // A robot's TUIKit answer, read back from history: the text TUIKit shows for it.
      text += chatbotTextOf(chatbot);
    } else attachments.push(tencentAttachment(el));
  }
  const read: ReturnType<typeof readMsgBody> = { text, attachments, ...(action ? { action } : {}) };
  if (robot?.src === INTERRUPT_SRC) {
    read.stop = true;
    // TUIKit's Stop names the robot message to stop by `msgKey` (`seq_random_time`): §3.3.
    if (typeof robot.msgKey === 'string' && robot.msgKey !== '') read.stopMessageId = robot.msgKey;
  } else if (robot) read.greeting = true;
  return read;
}

/** The markdown of a `TIMStreamElem`'s chunks, in order. */
function streamText(content: unknown): string {
  const chunks = (content as { Chunks?: unknown } | undefined)?.Chunks;
  if (!Array.isArray(chunks)) return '';
  return chunks.map((chunk) => str((chunk as { Markdown?: unknown }).Markdown) ?? '').join('');
}

/**
 * `src` of the custom message a user's client sends to interrupt an AI robot's streaming answer
 * (`{chatbotPlugin, src: 22, msgKey}`); the stream's own messages use `src` 2, errors 23.
 */
export const INTERRUPT_SRC = TUIKIT_SRC.stop;

/**
 * Turns a callback body into inbound messages: `Bot.OnC2CMessage` gives one, `Bot.OnGroupMessage`
 * one per @-mentioned robot; any other command is passed through as an event.
 */
export function parseTencentCallback(body: unknown): ParsedWebhook {
  const command = (body as { CallbackCommand?: unknown } | null)?.CallbackCommand;
  if (command === 'Bot.OnC2CMessage') {
    const c = c2cCallback.safeParse(body);
    if (!c.success) throw malformedCallback(c.error);
    const { text, attachments, action, stop, stopMessageId, greeting } = readMsgBody(c.data.MsgBody);
    const message: InboundMessage = {
      platform: 'tencent',
      botId: c.data.To_Account,
      from: c.data.From_Account,
      conversation: { type: 'c2c', userId: c.data.From_Account },
      text: text.trim(),
      rawText: text,
      mentions: [],
      messageKey: c.data.MsgKey,
      time: new Date(c.data.MsgTime * 1000),
      attachments,
      ...(action ? { action } : {}),
      ...(stop ? { stop } : {}),
      ...(stopMessageId ? { stopMessageId } : {}),
      ...(greeting ? { greeting } : {}),
      raw: body,
    };
    return { messages: [message], events: [] };
  }
  if (command === 'Bot.OnGroupMessage') {
    const g = groupCallback.safeParse(body);
    if (!g.success) throw malformedCallback(g.error);
    const { text, attachments, action, stop, stopMessageId, greeting } = readMsgBody(g.data.MsgBody);
    const mentions = g.data.AtRobots_Account;
    const messages = mentions.map(
      (botId): InboundMessage => ({
        platform: 'tencent',
        botId,
        from: g.data.From_Account,
        conversation: { type: 'group', groupId: g.data.GroupId },
        text: stripMentions(text, mentions),
        rawText: text,
        mentions,
        messageKey: `${g.data.GroupId}:${g.data.MsgSeq}`,
        time: new Date(g.data.MsgTime * 1000),
        attachments,
        ...(action ? { action } : {}),
        ...(stop ? { stop } : {}),
        ...(stopMessageId ? { stopMessageId } : {}),
        ...(greeting ? { greeting } : {}),
        raw: body,
      }),
    );
    return { messages, events: [] };
  }
  if (command === 'Chatbot.OnC2CSignalMessage') {
    const c = signalCallback.safeParse(body);
    if (!c.success) throw malformedCallback(c.error);
    const message: InboundMessage = {
      platform: 'tencent',
      botId: c.data.To_Account,
      from: c.data.From_Account,
      conversation: { type: 'c2c', userId: c.data.From_Account },
      text: c.data.Data,
      rawText: c.data.Data,
      mentions: [],
      // Not the key of a chat message: kept apart, so that de-duplicating one never drops the other.
      messageKey: `signal:${c.data.MsgKey}`,
      time: new Date(c.data.EventTime),
      attachments: [],
      signal: true,
      raw: body,
    };
    return { messages: [message], events: [] };
  }
  if (typeof command !== 'string') {
    throw new WebhookVerificationError('malformed', 'callback body has no CallbackCommand');
  }
  return { messages: [], events: [{ command, raw: body }] };
}

function malformedCallback(error: z.ZodError): WebhookVerificationError {
  const issue = error.issues[0];
  return new WebhookVerificationError(
    'malformed',
    `callback field ${issue?.path.join('.')}: ${issue?.message}`,
  );
}

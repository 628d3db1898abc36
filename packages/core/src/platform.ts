import { hkdfSync } from 'node:crypto';
import { ImbotError, WebhookVerificationError } from './errors.js';
import type { ButtonSigner } from './message/button-signer.js';
import { mentionTag, type RichMessage } from './message/rich.js';
import type { StreamSession, StreamSessionOptions } from './stream/session.js';
import type { TypingIndicator } from './stream/typing.js';

/**
 * The cloud-neutral face both clients offer to everything above them (bot registration, the Express
 * middleware, the Bot Framework adapter). Nothing above this file names a cloud.
 */

/** A bot account as an app declares it. Profile fields left out are not managed. */
export interface BotSpec {
  userId: string;
  /** Display name (Tencent `Nick`, RongCloud `name`). */
  name?: string;
  /** Avatar URL (Tencent `FaceUrl`, RongCloud `profileUrl`). */
  avatarUrl?: string;
  /** Status line or description (Tencent `SelfSignature`, RongCloud metadata `description`). */
  description?: string;
}

export type BotProfile = Omit<BotSpec, 'userId'>;

/** Where a conversation happens: one-to-one with a user, or in a group. */
export type Conversation = { type: 'c2c'; userId: string } | { type: 'group'; groupId: string };

/** Something other than text in a user's message: a picture, a file, a voice note, a video, or another kind. */
export interface InboundAttachment {
  kind: 'image' | 'file' | 'audio' | 'video' | 'other';
  /** Where to download it, when the cloud gives a URL. */
  url?: string;
  /** The file name, when the cloud gives one. */
  name?: string;
  /** The element exactly as the cloud sent it. */
  raw: unknown;
}

/** A user's message to a bot, parsed from a webhook callback. */
export interface InboundMessage {
  /** Which cloud it came from (`'tencent'`, `'rongcloud'`). */
  platform: string;
  /** The bot it is addressed to; a group message @-mentioning two bots arrives once for each. */
  botId: string;
  /** The sender's user id. */
  from: string;
  conversation: Conversation;
  /** The text, without the leading @-mentions of bots. */
  text: string;
  /** The text exactly as sent. */
  rawText: string;
  /** Bots @-mentioned (group messages). */
  mentions: string[];
  /** The message's unique key, for de-duplicating redelivered callbacks. */
  messageKey: string;
  /** When it was sent. */
  time: Date;
  /** The parts of the message that are not plain text. */
  attachments: InboundAttachment[];
  /**
   * Set when the message is a press of a card's `message` button: `text` is then the button's
   * value, and `messageId` the card's message when the client names it.
   */
  action?: { value: string; messageId?: string };
  /**
   * Set on the cloud's own request to stop the bot's answer in progress (the interrupt message of
   * Tencent's AI robots): the receiver treats it as a stop word.
   */
  stop?: true;
  /**
   * With `stop`: the bot's message the stop names (TUIKit's Stop sends the `msgKey` of the
   * streaming message it is pressed on). Only the answer that message belongs to stops.
   */
  stopMessageId?: string;
  /**
   * Set on a client's greeting on opening the bot's chat (TUIKit's `{chatbotPlugin, src: 7}`): the
   * `welcome` option answers it, and no handler sees it.
   */
  greeting?: true;
  /**
   * Set on a pass-through signal rather than a chat message (Tencent's `Chatbot.OnC2CSignalMessage`):
   * `text` is its data. The `onSignal` option answers it within the callback; no handler sees it.
   */
  signal?: true;
  /** The whole callback body. */
  raw: unknown;
}

/** Questions the user may tap: a title, and the items, each sent back as the user's text when tapped. */
export interface Questions {
  kind: 'welcome' | 'clarify';
  title: string;
  items: readonly string[];
}

/** A callback the platform does not turn into an `InboundMessage`, passed through as it came. */
export interface WebhookEvent {
  command: string;
  raw: unknown;
}

/**
 * What a webhook carried: messages for the bots, other events, and (where the platform keeps
 * something of the request, such as a routed message) the work the cloud's answer waits for.
 */
export type ParsedWebhook = { messages: InboundMessage[]; events: WebhookEvent[]; kept?: Promise<void> };

/**
 * A webhook request as any framework can give it: query, headers, and the body as raw bytes or,
 * when a body parser already consumed them, as the parsed JSON (neither cloud signs the body, so
 * the parsed form verifies just as well).
 */
export interface WebhookRequest {
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  rawBody?: Buffer | string | undefined;
  parsedBody?: unknown;
}

export interface VerifyOptions {
  /**
   * A callback secret given to the receiver rather than to the platform.
   * @deprecated Give it to the client (`new TencentIm({ callbackToken })`); kept for `webhook.token`.
   */
  token?: string | undefined;
  /** Seconds since the epoch, for the freshness check; injectable for tests. */
  now?: number | undefined;
  /** How far a request's signed time may be from now, either way. Default 60 s. */
  toleranceSeconds?: number | undefined;
  /** Accept requests the cloud could not sign because no secret is configured. Default false. */
  allowUnsigned?: boolean | undefined;
}

/** What verification learnt that the receiver must still check against what it has seen. */
export interface WebhookProof {
  /** A key unique to this signed request (a nonce): seen twice within `replayTtlMs`, it is a replay. */
  replayKey?: string;
  /** How long `replayKey` must be remembered: as long as the request's signature stays fresh. */
  replayTtlMs?: number;
}

/**
 * Whom a reply goes to: the user of a one-to-one chat, or a group, from `botId`. In a group,
 * `mention` names users the message @-mentions (`@id ` in front of the text, and the cloud's
 * mention fields, so their clients notify them).
 */
export type ReplyTarget =
  | { botId: string; userId: string }
  | { botId: string; groupId: string; mention?: readonly string[] | undefined };

/** A message as a conversation's history holds it. */
export interface StoredMessage {
  /** The id `sendText` gives (Tencent: the `MsgKey` one-to-one, the `MsgSeq` in a group). */
  messageId: string;
  /** The conversation it is part of (one-to-one: with the user, as the bot sees it). */
  conversation: Conversation;
  from: string;
  /** Its text (a card's or a file's readable text). */
  text: string;
  time: Date;
  attachments: InboundAttachment[];
  /** The message as the cloud's history returns it. */
  raw: unknown;
}

/** One page of a conversation's history, newest first; `before` reads the next, older page. */
export interface HistorySlice {
  messages: StoredMessage[];
  before?: string;
}

/** A message a reply quotes: its id, its text (or the start of it) and its sender. */
export interface QuotedMessage {
  messageId: string;
  text: string;
  from: string;
}

/** How `sendText` sends. */
export interface SendTextOptions {
  /** The message this one answers, shown quoted above it. */
  quote?: QuotedMessage | undefined;
}

/** How `updateText` treats the text it is given. */
export interface UpdateTextOptions {
  /**
   * The text is a snapshot of markdown still growing (an edit-based stream): an open fenced block,
   * inline code span or `**` is closed before sending, so the snapshot renders as the whole will.
   */
  partial?: boolean;
}

export interface BotPlatform {
  /** The cloud's name, as in `InboundMessage.platform`. */
  readonly name: string;
  /** Most bot accounts one app may have. */
  readonly maxBots: number;
  /** What to answer the cloud's webhook with once a request is accepted. */
  readonly webhookAnswer: { status: number; contentType: string; body: string };
  /**
   * The body of the answer to a signal (`InboundMessage.signal`): `result` handed back to the cloud,
   * or, `undefined`, the signal not handled. Absent where the cloud sends no signals.
   */
  signalAnswer?(result: string | undefined): string;
  /** Whether the platform holds the secret its cloud signs callbacks with, so it can verify them. */
  readonly signsWebhooks: boolean;
  /** Whether `userId` is one of the app's bots, as far as the platform can tell from the id or what it has seen. */
  isBot(userId: string): boolean;

  /** Throws `ValidationError` for a spec the cloud would refuse (id format, field limits). */
  validateBotSpec(spec: BotSpec, index: number): BotSpec;
  /** The user ids of the app's bots. */
  listBots(): Promise<string[]>;
  /** The profiles of the given bots; bots the cloud does not know are left out. */
  getBotProfiles(userIds: string[]): Promise<BotSpec[]>;
  createBot(spec: BotSpec): Promise<void>;
  /** Sets the profile fields given in `spec`. */
  updateBot(spec: BotSpec): Promise<void>;
  deleteBot(userId: string): Promise<void>;

  /**
   * Throws `WebhookVerificationError` unless the request is authentic and fresh; returns what the
   * receiver must still check for replays.
   */
  verifyWebhook(request: WebhookRequest, options?: VerifyOptions): WebhookProof | Promise<WebhookProof>;
  /** Parses a verified request's body; throws `WebhookVerificationError('malformed')`. */
  parseWebhook(request: WebhookRequest): ParsedWebhook;

  /**
   * Sends a plain text message as the bot; resolves with the id of the (last) message sent. With
   * `quote`, the (first) message quotes that one, as the cloud's clients show a reply.
   */
  sendText(target: ReplyTarget, text: string, options?: SendTextOptions): Promise<{ messageId: string }>;
  /**
   * Marks what the user of a one-to-one `target` sent the bot read, up to the message `messageId`
   * (sent at `sentAt`), so their client shows it read (Tencent `admin_set_msg_read`, RongCloud
   * `RC:ReadNtf`); absent where the cloud cannot. A group target is refused with `NOT_SUPPORTED`.
   */
  markRead?(target: ReplyTarget, messageId: string, sentAt?: Date): Promise<void>;
  /**
   * Sends a rich message (image, file, card, or text) in the cloud's own elements, with a readable
   * text fallback for clients that cannot render it; throws `ValidationError` before any request.
   */
  sendMessage(target: ReplyTarget, message: RichMessage): Promise<{ messageId: string }>;
  /**
   * Sends questions the user may tap, each tap arriving as the user's text message: `welcome` when
   * the user opens the chat, `clarify` when the bot asks which one they meant. Absent where the
   * cloud's clients render no such card (then `reply.clarify` sends them as text).
   */
  sendQuestions?(target: ReplyTarget, questions: Questions): Promise<{ messageId: string }>;
  /**
   * Tells the user an answer failed before it said anything, where their client waits with a
   * bubble of its own (TUIKit's robot chat shows "thinking" and a Stop button until the robot's
   * message comes). Absent, or doing nothing, elsewhere.
   */
  answerFailed?(target: ReplyTarget): Promise<void>;
  /** Puts a bot into a group, so that members can @-mention it and it can speak there. */
  addBotToGroup(botId: string, groupId: string): Promise<void>;
  /** Takes a bot out of a group. */
  removeBotFromGroup(botId: string, groupId: string): Promise<void>;
  /**
   * Replaces the text of a message the bot sent, where the cloud can (else absent). The message
   * keeps `messageId` for later edits and recalls, even where the cloud replaces it underneath.
   */
  updateText?(
    target: ReplyTarget,
    messageId: string,
    text: string,
    options?: UpdateTextOptions,
  ): Promise<void>;
  /** Recalls a message the bot sent, where the cloud can (else absent). */
  deleteMessage?(target: ReplyTarget, messageId: string): Promise<void>;
  /**
   * The cloud's "the bot is typing" signal to `target`, not yet started; absent or undefined where
   * the cloud's clients show none (groups).
   */
  typing?(target: ReplyTarget): TypingIndicator | undefined;
  /**
   * The latest messages of the conversation `target` names, newest first, at most `limit` (default
   * 20); `before` (a page's own `before`) reads further back. Absent where the cloud keeps no
   * history a bot can read (RongCloud's is an hourly archive). Recalled messages are left out.
   */
  readHistory?(target: ReplyTarget, options?: { before?: string; limit?: number }): Promise<HistorySlice>;
  /**
   * A 32-byte key for `purpose`, derived from the app's secret (HKDF-SHA256), for values the app
   * signs and later checks itself, such as a card button's payload; undefined when the client holds
   * no secret. The secret itself never leaves the client.
   */
  deriveKey?(purpose: string): Buffer | undefined | Promise<Buffer | undefined>;
  /**
   * Signs the `message` buttons of the cards this platform sends and opens the presses that come
   * back; a receiver refuses a press it cannot open. Absent on a platform that sends raw values.
   */
  readonly buttons?: ButtonSigner;
  /** Opens a stream session from the bot to the user or the group. */
  openStream(target: ReplyTarget, options?: StreamSessionOptions): StreamSession;
}

/** The users a reply @-mentions: only a group reply mentions anyone. */
export function mentionsOf(target: ReplyTarget): readonly string[] {
  return 'groupId' in target ? (target.mention ?? []) : [];
}

/** The JSON body of a webhook request, from its raw bytes or as already parsed. */
export function jsonBody(request: WebhookRequest): unknown {
  if (request.rawBody === undefined) return request.parsedBody;
  try {
    return JSON.parse(
      typeof request.rawBody === 'string' ? request.rawBody : request.rawBody.toString('utf8'),
    );
  } catch {
    throw new WebhookVerificationError('malformed', 'webhook body is not JSON');
  }
}

/**
 * Removes mentions of the given bots (`mentionTag`, and the doubled `@@RBT#…` some clients write),
 * wherever they stand, and the space after each.
 */
export function stripMentions(text: string, ids: string[]): string {
  let out = text;
  for (const id of ids) out = out.split(`@${id}`).join('').split(mentionTag(id)).join('');
  return out.replace(/\s{2,}/g, ' ').trim();
}

/** A key for `purpose` derived from an app's `secret`, salted with the app's id (HKDF-SHA256, 32 bytes). */
export function deriveAppKey(secret: string, app: string, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, app, purpose, 32));
}

/** What a platform throws for a call its cloud offers only in one-to-one chats. */
export function notInGroups(what: string): ImbotError {
  return new ImbotError(
    'NOT_SUPPORTED',
    `${what}: the cloud offers it in one-to-one chats only, not in groups`,
  );
}

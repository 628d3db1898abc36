import * as z from 'zod';
import { BUTTON_KEY_PURPOSE, type ButtonMode, ButtonSigner } from '../message/button-signer.js';
import { mentionPrefix, parseRichMessage, type RichMessage } from '../message/rich.js';
import {
  type BotPlatform,
  type BotSpec,
  deriveAppKey,
  jsonBody,
  mentionsOf,
  notInGroups,
  type ParsedWebhook,
  type ReplyTarget,
  type SendTextOptions,
  type UpdateTextOptions,
  type VerifyOptions,
  type WebhookProof,
  type WebhookRequest,
} from '../platform.js';
import { type SecretSource, withSecret } from '../secret.js';
import { cleanPrefix } from '../stream/chunking.js';
import { closeMarkdown } from '../stream/markdown.js';
import type { StreamSession, StreamSessionOptions } from '../stream/session.js';
import type { TypingIndicator } from '../stream/typing.js';
import { maxChars, parseInput, utf8Bytes } from '../validation.js';
import type { RongCloud } from './client.js';
import { BUTTON_OBJECT_NAME, readNotice, referenceMessage, rongMessageOf } from './elements.js';
import { isRoutedBody, parseRoutedMessage } from './routes.js';
import { BOTS_PER_APP, botId } from './schemas.js';
import { parseRongCloudCallback, verifyRongCloudCallback } from './webhook.js';

const botSpec = z.object({
  userId: botId,
  name: maxChars(128).optional(),
  avatarUrl: maxChars(256).optional(),
  description: maxChars(128).optional(),
});

/** Plain messages carry the text inside JSON; keep each well under the 128 KB content limit. */
const PLAIN_MAX_BYTES = 120 * 1024;
/** Sent messages whose send time (which a recall needs) and replacement are remembered. */
const REMEMBERED_MESSAGES = 10_000;

/** A map that forgets its oldest entry past `max`. */
function remember<K, V>(map: Map<K, V>, key: K, value: V, max = REMEMBERED_MESSAGES): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > max) map.delete(map.keys().next().value as K);
}

/**
 * RongCloud as a `BotPlatform`: bots are `/v3/bot` bots (10 per app) with a name, `profileUrl` and a
 * `description` in their metadata; created with a `webhook` integration pointing at the client's
 * `callbackUrl`. Callbacks are signed with the App Secret and protected against replay.
 */
export class RongCloudPlatform implements BotPlatform {
  readonly name = 'rongcloud';
  readonly maxBots = BOTS_PER_APP;
  readonly webhookAnswer = { status: 200, contentType: 'application/json', body: '{"code":200}' };
  /** Callbacks are always signed with the App Secret, which a client cannot be made without. */
  readonly signsWebhooks = true;
  readonly #appSecret: SecretSource;
  readonly buttons: ButtonSigner;
  /** Bot ids learnt from listing, creating and callbacks: RongCloud bot ids have no telling shape. */
  readonly #bots = new Set<string>();
  /** When each message this platform sent was sent: a recall must name it. */
  readonly #sentTimes = new Map<string, number>();
  /** Edited messages: the id the bot knows → the message that now stands for it. */
  readonly #replacedBy = new Map<string, string>();

  /** The App Secret stays in a private field: `console.log(platform)` shows no secret. */
  constructor(
    private readonly rong: RongCloud,
    appSecret: SecretSource,
    options: { buttons?: ButtonMode | undefined } = {},
  ) {
    this.#appSecret = appSecret;
    this.buttons = new ButtonSigner(
      options.buttons === 'raw' ? undefined : () => this.deriveKey(BUTTON_KEY_PURPOSE),
    );
  }

  deriveKey(purpose: string): Buffer | Promise<Buffer> {
    return withSecret(this.#appSecret, (secret) =>
      deriveAppKey(secret, `rongcloud:${this.rong.appKey}`, purpose),
    );
  }

  validateBotSpec(spec: BotSpec, index: number): BotSpec {
    return parseInput(botSpec, spec, `bots[${index}]`);
  }

  async listBots(): Promise<string[]> {
    const ids: string[] = [];
    for await (const bot of this.rong.listBots()) ids.push(bot.userId);
    for (const id of ids) this.#bots.add(id);
    return ids;
  }

  /** True for the bots this platform has listed, created or been called back for. */
  isBot(userId: string): boolean {
    return this.#bots.has(userId);
  }

  async getBotProfiles(userIds: string[]): Promise<BotSpec[]> {
    if (userIds.length === 0) return [];
    return (await this.rong.getBots(userIds)).map((bot) => {
      const spec: BotSpec = { userId: bot.userId, name: bot.name, avatarUrl: bot.profileUrl };
      if (bot.metadata.description !== undefined) spec.description = bot.metadata.description;
      return spec;
    });
  }

  async createBot(spec: BotSpec): Promise<void> {
    this.#bots.add(spec.userId);
    const callbackUrl = this.rong.callbackUrl;
    await this.rong.createBot({
      userId: spec.userId,
      name: spec.name ?? spec.userId,
      type: 'bot',
      profileUrl: spec.avatarUrl ?? '',
      ...(spec.description !== undefined ? { metadata: { description: spec.description } } : {}),
      integrations: callbackUrl
        ? [
            {
              type: 'webhook',
              enabled: true,
              callbackUrl,
              objectNames: ['RC:TxtMsg', 'RC:ImgMsg', 'RC:FileMsg', BUTTON_OBJECT_NAME],
              events: ['message:private', 'message:group'],
              stream: false,
              handleResponse: false,
            },
          ]
        : [],
    });
  }

  async updateBot(spec: BotSpec): Promise<void> {
    await this.rong.updateBot({
      userId: spec.userId,
      ...(spec.name !== undefined ? { name: spec.name } : {}),
      ...(spec.avatarUrl !== undefined ? { profileUrl: spec.avatarUrl } : {}),
      ...(spec.description !== undefined ? { metadata: { description: spec.description } } : {}),
    });
  }

  deleteBot(userId: string): Promise<void> {
    return this.rong.deleteBot(userId);
  }

  verifyWebhook(request: WebhookRequest, options: VerifyOptions = {}): WebhookProof | Promise<WebhookProof> {
    return withSecret(this.#appSecret, (appSecret) =>
      verifyRongCloudCallback(request.query, request.headers, {
        appKey: this.rong.appKey,
        appSecret,
        now: options.now === undefined ? undefined : options.now * 1000,
        toleranceMs: options.toleranceSeconds === undefined ? undefined : options.toleranceSeconds * 1000,
      }),
    );
  }

  /**
   * A bot webhook gives its message; a routed message (full message routing, a form body) is
   * recorded in the client's `routes` for the stream sessions and goes no further.
   */
  parseWebhook(request: WebhookRequest): ParsedWebhook {
    const contentType = request.headers['content-type'];
    if (isRoutedBody(Array.isArray(contentType) ? contentType[0] : contentType, request.parsedBody)) {
      const raw = request.rawBody;
      const body =
        raw === undefined
          ? (request.parsedBody as Record<string, unknown>)
          : typeof raw === 'string'
            ? raw
            : raw.toString('utf8');
      const kept = this.rong.routes.record(parseRoutedMessage(body));
      return { messages: [], events: [], ...(kept ? { kept } : {}) };
    }
    const parsed = parseRongCloudCallback(jsonBody(request));
    // A callback is sent for a bot: its id is one of the app's bots.
    for (const message of parsed.messages) this.#bots.add(message.botId);
    return parsed;
  }

  /**
   * Sends `text` as the bot (`RC:TxtMsg`), in several messages past 120 KB; the id is the
   * `messageUID`. In a group, each piece @-mentions `target.mention`.
   */
  async sendText(
    target: ReplyTarget,
    text: string,
    options: SendTextOptions = {},
  ): Promise<{ messageId: string }> {
    let rest = text;
    let messageId = '';
    let quote = options.quote;
    const room = PLAIN_MAX_BYTES - utf8Bytes(mentionPrefix(mentionsOf(target)));
    do {
      const piece = cleanPrefix(rest, room);
      // Only the first message of a long text quotes (`RC:ReferenceMsg`): the rest continue it.
      messageId = await this.#send(
        target,
        quote ? { message: referenceMessage(piece, quote) } : { text: piece },
      );
      quote = undefined;
      rest = rest.slice(piece.length);
    } while (rest !== '');
    return { messageId };
  }

  /**
   * Tells the user of a one-to-one `target` the bot has read what they sent up to `messageId`
   * (sent at `sentAt`, default now): the read notice `RC:ReadNtf`, which their client shows as read.
   * A group's read receipts are requested by its sender, not set by a bot.
   */
  async markRead(target: ReplyTarget, messageId: string, sentAt?: Date): Promise<void> {
    if ('groupId' in target) throw notInGroups('markRead');
    await this.rong.publishPrivate({
      from: target.botId,
      to: target.userId,
      message: readNotice(messageId, (sentAt ?? new Date()).getTime()),
    });
  }

  /**
   * Sends a rich message as the bot: `RC:ImgMsg`, `RC:FileMsg`, or a card as `IMB:CardMsg` (its
   * text fallback in `content` and `pushContent`).
   */
  async sendMessage(target: ReplyTarget, message: RichMessage): Promise<{ messageId: string }> {
    const checked = await this.buttons.sign(target, parseRichMessage(message));
    if (checked.type === 'text') return this.sendText(target, checked.text);
    return { messageId: await this.#send(target, { message: rongMessageOf(checked) }) };
  }

  async #send(
    target: ReplyTarget,
    body: { text: string } | { message: ReturnType<typeof rongMessageOf> },
  ): Promise<string> {
    const sent =
      'groupId' in target
        ? await this.rong.publishGroup({
            from: target.botId,
            groupId: target.groupId,
            mention: target.mention,
            ...body,
          })
        : await this.rong.publishPrivate({ from: target.botId, to: target.userId, ...body });
    const messageId = sent.messageUIDs[0] ?? '';
    remember(this.#sentTimes, messageId, sent.sentTime);
    return messageId;
  }

  /**
   * RongCloud has no API to change a sent message: an edit recalls the message without a notice and
   * sends the new text in its place (the group reply's @-mentions kept). The bot goes on knowing it
   * by `messageId`: later edits and recalls reach the message that now stands for it.
   */
  async updateText(
    target: ReplyTarget,
    messageId: string,
    text: string,
    options: UpdateTextOptions = {},
  ): Promise<void> {
    const whole = options.partial ? closeMarkdown(text) : text;
    const body = parseInput(maxChars(PLAIN_MAX_BYTES).min(1, 'must not be empty'), whole, 'text');
    await this.#recall(target, messageId, true);
    remember(this.#replacedBy, messageId, await this.#send(target, { text: body }));
  }

  /** Recalls a message the bot sent (`/message/recall.json`): clients show that it was recalled. */
  async deleteMessage(target: ReplyTarget, messageId: string): Promise<void> {
    await this.#recall(target, messageId, false);
  }

  async #recall(target: ReplyTarget, messageId: string, silent: boolean): Promise<void> {
    const current = this.#replacedBy.get(messageId) ?? messageId;
    await this.rong.recall({
      from: target.botId,
      conversation: 'groupId' in target ? 'group' : 'private',
      targetId: 'groupId' in target ? target.groupId : target.userId,
      messageUID: current,
      // A message another process sent (or a stream) has no remembered time: now is the best guess.
      sentTime: this.#sentTimes.get(current) ?? Date.now(),
      silent,
    });
  }

  /** Puts a bot into a group (`/group/join.json`). */
  async addBotToGroup(bot: string, groupId: string): Promise<void> {
    await this.rong.joinGroup(groupId, [parseInput(botId, bot, 'botId')]);
  }

  /** Takes a bot out of a group (`/group/quit.json`). */
  async removeBotFromGroup(bot: string, groupId: string): Promise<void> {
    await this.rong.quitGroup(groupId, [parseInput(botId, bot, 'botId')]);
  }

  typing(target: ReplyTarget): TypingIndicator | undefined {
    return 'groupId' in target ? undefined : this.rong.typing({ from: target.botId, to: target.userId });
  }

  openStream(target: ReplyTarget, options?: StreamSessionOptions): StreamSession {
    return 'groupId' in target
      ? this.rong.openStream(
          { from: target.botId, groupId: target.groupId, mention: target.mention },
          options,
        )
      : this.rong.openStream({ from: target.botId, to: target.userId }, options);
  }
}

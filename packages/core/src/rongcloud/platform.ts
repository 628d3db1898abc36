import { z } from 'zod';
import {
  type BotPlatform,
  type BotSpec,
  jsonBody,
  type ParsedWebhook,
  type ReplyTarget,
  type VerifyOptions,
  type WebhookProof,
  type WebhookRequest,
} from '../platform.js';
import { cleanPrefix } from '../stream/chunking.js';
import type { StreamSession, StreamSessionOptions } from '../stream/session.js';
import { maxChars, parseInput } from '../validation.js';
import type { RongCloud } from './client.js';
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
  readonly #appSecret: string;
  /** Bot ids learnt from listing, creating and callbacks: RongCloud bot ids have no telling shape. */
  readonly #bots = new Set<string>();

  /** The App Secret stays in a private field: `console.log(platform)` shows no secret. */
  constructor(
    private readonly rong: RongCloud,
    appSecret: string,
  ) {
    this.#appSecret = appSecret;
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
              objectNames: ['RC:TxtMsg', 'RC:ImgMsg', 'RC:FileMsg'],
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

  verifyWebhook(request: WebhookRequest, options: VerifyOptions = {}): WebhookProof {
    return verifyRongCloudCallback(request.query, request.headers, {
      appKey: this.rong.appKey,
      appSecret: this.#appSecret,
      now: options.now === undefined ? undefined : options.now * 1000,
      toleranceMs: options.toleranceSeconds === undefined ? undefined : options.toleranceSeconds * 1000,
    });
  }

  parseWebhook(request: WebhookRequest): ParsedWebhook {
    const parsed = parseRongCloudCallback(jsonBody(request));
    // A callback is sent for a bot: its id is one of the app's bots.
    for (const message of parsed.messages) this.#bots.add(message.botId);
    return parsed;
  }

  /** Sends `text` as the bot (`RC:TxtMsg`), in several messages past 120 KB; the id is the `messageUID`. */
  async sendText(target: ReplyTarget, text: string): Promise<{ messageId: string }> {
    let rest = text;
    let messageId = '';
    do {
      const piece = cleanPrefix(rest, PLAIN_MAX_BYTES);
      const sent =
        'groupId' in target
          ? await this.rong.publishGroup({ from: target.botId, groupId: target.groupId, text: piece })
          : await this.rong.publishPrivate({ from: target.botId, to: target.userId, text: piece });
      messageId = sent.messageUIDs[0] ?? '';
      rest = rest.slice(piece.length);
    } while (rest !== '');
    return { messageId };
  }

  openStream(target: ReplyTarget, options?: StreamSessionOptions): StreamSession {
    return 'groupId' in target
      ? this.rong.openStream({ from: target.botId, groupId: target.groupId }, options)
      : this.rong.openStream({ from: target.botId, to: target.userId }, options);
  }
}

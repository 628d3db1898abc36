import { z } from 'zod';
import type {
  BotPlatform,
  BotSpec,
  ParsedWebhook,
  ReplyTarget,
  VerifyOptions,
  WebhookRequest,
} from '../platform.js';
import { jsonBody } from '../platform.js';
import { cleanPrefix } from '../stream/chunking.js';
import type { StreamSession, StreamSessionOptions } from '../stream/session.js';
import { maxBytes, parseInput } from '../validation.js';
import type { TencentIm } from './client.js';
import { MESSAGE_MAX_BYTES, PROFILE_FIELD_MAX_BYTES, ROBOTS_PER_APP, robotId } from './schemas.js';
import { parseTencentCallback, verifyTencentCallback } from './webhook.js';

const botSpec = z.object({
  userId: robotId,
  name: maxBytes(PROFILE_FIELD_MAX_BYTES).optional(),
  avatarUrl: maxBytes(PROFILE_FIELD_MAX_BYTES).optional(),
  description: maxBytes(PROFILE_FIELD_MAX_BYTES).optional(),
});

/**
 * Tencent Cloud Chat as a `BotPlatform`: bots are robot accounts (`@RBT#…`, 20 per app), profiles
 * are Nick / FaceUrl / SelfSignature, webhooks are robot callbacks signed with the console's token.
 */
export class TencentPlatform implements BotPlatform {
  readonly name = 'tencent';
  readonly maxBots = ROBOTS_PER_APP;
  readonly webhookAnswer = {
    status: 200,
    contentType: 'application/json',
    body: '{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}',
  };

  constructor(private readonly im: TencentIm) {}

  validateBotSpec(spec: BotSpec, index: number): BotSpec {
    return parseInput(botSpec, spec, `bots[${index}]`);
  }

  listBots(): Promise<string[]> {
    return this.im.getAllRobots();
  }

  async getBotProfiles(userIds: string[]): Promise<BotSpec[]> {
    if (userIds.length === 0) return [];
    const profiles = await this.im.getProfiles(userIds);
    return profiles.map((p) => {
      const spec: BotSpec = { userId: p.userId };
      if (p.nick !== undefined) spec.name = p.nick;
      if (p.faceUrl !== undefined) spec.avatarUrl = p.faceUrl;
      if (p.selfSignature !== undefined) spec.description = p.selfSignature;
      return spec;
    });
  }

  createBot(spec: BotSpec): Promise<void> {
    return this.im.createRobot({
      userId: spec.userId,
      nick: spec.name,
      faceUrl: spec.avatarUrl,
      selfSignature: spec.description,
    });
  }

  updateBot(spec: BotSpec): Promise<void> {
    return this.im.setProfile(spec.userId, {
      nick: spec.name,
      faceUrl: spec.avatarUrl,
      selfSignature: spec.description,
    });
  }

  deleteBot(userId: string): Promise<void> {
    return this.im.deleteRobot(userId);
  }

  verifyWebhook(request: WebhookRequest, options: VerifyOptions = {}): void {
    verifyTencentCallback(request.query, this.im.sdkAppId, options);
  }

  parseWebhook(request: WebhookRequest): ParsedWebhook {
    return parseTencentCallback(jsonBody(request));
  }

  /** Sends `text` as the bot; text over 12 KB goes as several messages, cut at clean boundaries. */
  async sendText(target: ReplyTarget, text: string): Promise<void> {
    let rest = text;
    do {
      const piece = cleanPrefix(rest, MESSAGE_MAX_BYTES);
      if ('groupId' in target)
        await this.im.sendGroupMsg({ from: target.botId, groupId: target.groupId, text: piece });
      else await this.im.sendMsg({ from: target.botId, to: target.userId, text: piece });
      rest = rest.slice(piece.length);
    } while (rest !== '');
  }

  openStream(target: ReplyTarget, options?: StreamSessionOptions): StreamSession {
    return 'groupId' in target
      ? this.im.openStream({ from: target.botId, groupId: target.groupId }, options)
      : this.im.openStream({ from: target.botId, to: target.userId }, options);
  }
}

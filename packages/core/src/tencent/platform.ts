import * as z from 'zod';
import { ValidationError } from '../errors.js';
import { BUTTON_KEY_PURPOSE, type ButtonMode, ButtonSigner } from '../message/button-signer.js';
import { mentionPrefix, parseRichMessage, type RichMessage } from '../message/rich.js';
import type {
  BotPlatform,
  BotSpec,
  Conversation,
  HistorySlice,
  ParsedWebhook,
  Questions,
  ReplyTarget,
  SendTextOptions,
  StoredMessage,
  UpdateTextOptions,
  VerifyOptions,
  WebhookProof,
  WebhookRequest,
} from '../platform.js';
import { deriveAppKey, jsonBody, mentionsOf, notInGroups } from '../platform.js';
import { type SecretSource, withSecret } from '../secret.js';
import { cleanPrefix } from '../stream/chunking.js';
import { closeMarkdown } from '../stream/markdown.js';
import type { StreamSession, StreamSessionOptions } from '../stream/session.js';
import type { TypingIndicator } from '../stream/typing.js';
import { maxBytes, parseInput, utf8Bytes } from '../validation.js';
import type { TencentIm } from './client.js';
import { replyCloudData, tencentElements, textElement, withMentions } from './elements.js';
import { TencentApiError } from './errors.js';
import type { HistoryMessage } from './history.js';
import {
  MESSAGE_MAX_BYTES,
  PROFILE_FIELD_MAX_BYTES,
  ROBOT_PREFIX,
  ROBOTS_PER_APP,
  robotId,
} from './schemas.js';
import {
  branchData,
  chatbotDataOf,
  chatbotElement,
  DEFAULT_ERROR_INFO,
  errorData,
  TUIKIT_SRC,
} from './tuikit.js';
import { parseTencentCallback, readMsgBody, verifyTencentCallback } from './webhook.js';

/** Whether a stored message is a TUIKit client's Stop (`src: 22`) or greeting (`src: 7`). */
function isControl(message: HistoryMessage): boolean {
  const src = chatbotDataOf(message.msgBody)?.src;
  return src === TUIKIT_SRC.stop || src === TUIKIT_SRC.greeting;
}

/** A group message's id is its `MsgSeq`, as `sendText` gives it. */
function groupSeq(messageId: string): number {
  return parseInput(
    z.coerce.number().int().positive({ message: 'a group message id is its MsgSeq, a positive number' }),
    messageId,
    'messageId',
  );
}

/** A one-to-one history cursor, `<MsgTime>_<MsgKey>` (a `MsgKey` is `seq_random_time` itself). */
function splitRoamCursor(before: string): [number, string] {
  const at = before.indexOf('_');
  const time = Number(before.slice(0, at));
  if (at < 1 || !Number.isInteger(time)) {
    throw new ValidationError('before', 'before: not a history cursor of this conversation');
  }
  return [time, before.slice(at + 1)];
}

/** History entries as neutral stored messages, recalled ones left out. */
function storedMessages(
  messages: HistoryMessage[],
  conversation: Conversation,
  idOf: (m: HistoryMessage) => string,
): StoredMessage[] {
  return (
    messages
      // A TUIKit Stop or greeting is a client's control message, not part of the conversation (§3.3).
      .filter((m) => !m.recalled && !isControl(m))
      .map((m) => {
        const { text, attachments } = readMsgBody(m.msgBody);
        const desc = m.msgBody
          .map((el) => (el.MsgContent as { Desc?: unknown } | undefined)?.Desc)
          .find((d): d is string => typeof d === 'string' && d !== '');
        return {
          messageId: idOf(m),
          conversation,
          from: m.from,
          text: text || desc || '',
          time: new Date(m.msgTime * 1000),
          attachments,
          raw: m,
        };
      })
  );
}

const botSpec = z.object({
  userId: robotId,
  name: maxBytes(PROFILE_FIELD_MAX_BYTES).optional(),
  avatarUrl: maxBytes(PROFILE_FIELD_MAX_BYTES).optional(),
  description: maxBytes(PROFILE_FIELD_MAX_BYTES).optional(),
});

/** A branch card's questions: a title, and 1 to 20 items of text a user can send. */
const questionsInput = z.object({
  kind: z.enum(['welcome', 'clarify']),
  title: z.string().min(1, 'must not be empty'),
  items: z.array(z.string().trim().min(1, 'an item must not be empty')).min(1).max(20),
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

  /**
   * `Chatbot.OnC2CSignalMessage`'s answer: `ErrorCode` 0 with `RspData` passed back to the chatbot,
   * or 1 when the signal was not handled, whose `RspData` the cloud ignores (doc 269/103730).
   */
  signalAnswer(result: string | undefined): string {
    return JSON.stringify(
      result === undefined
        ? { ActionStatus: 'OK', ErrorCode: 1, ErrorInfo: 'signal not handled', RspData: '' }
        : { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '', RspData: result },
    );
  }

  readonly #callbackToken: SecretSource | undefined;
  readonly #keySecret: SecretSource | undefined;
  readonly buttons: ButtonSigner;

  /**
   * The secrets stay in private fields: `console.log(platform)` shows none. `keySecret` (the secret
   * key, else the callback token) is what `deriveKey` derives from.
   */
  constructor(
    private readonly im: TencentIm,
    callbackToken?: SecretSource,
    keySecret?: SecretSource,
    options: { buttons?: ButtonMode | undefined } = {},
  ) {
    this.#callbackToken = callbackToken;
    this.#keySecret = keySecret;
    this.buttons = new ButtonSigner(
      options.buttons === 'raw' ? undefined : () => this.deriveKey(BUTTON_KEY_PURPOSE),
    );
  }

  deriveKey(purpose: string): Buffer | undefined | Promise<Buffer> {
    const secret = this.#keySecret;
    return secret === undefined
      ? undefined
      : withSecret(secret, (value) => deriveAppKey(value, `tencent:${this.im.sdkAppId}`, purpose));
  }

  /** Callbacks are signed only when a callback token is set in the console and given to the client. */
  get signsWebhooks(): boolean {
    return this.#callbackToken !== undefined;
  }

  /** Robot accounts are the ids that start with `@RBT#`. */
  isBot(userId: string): boolean {
    return userId.startsWith(ROBOT_PREFIX);
  }

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

  /** Tencent signs no nonce (its `Sign` is the same for a whole second): redeliveries are caught by message key. */
  verifyWebhook(request: WebhookRequest, options: VerifyOptions = {}): WebhookProof | Promise<WebhookProof> {
    const verify = (token: string | undefined): WebhookProof => {
      verifyTencentCallback(request.query, this.im.sdkAppId, { ...options, token: token ?? options.token });
      return {};
    };
    return this.#callbackToken ? withSecret(this.#callbackToken, verify) : verify(undefined);
  }

  parseWebhook(request: WebhookRequest): ParsedWebhook {
    return parseTencentCallback(jsonBody(request));
  }

  /**
   * Sends `text` as the bot; text over 12 KB goes as several messages, cut at clean boundaries. The
   * message id is the `MsgKey` (one-to-one) or the group's `MsgSeq`. In a group, each piece
   * @-mentions `target.mention`.
   */
  async sendText(
    target: ReplyTarget,
    text: string,
    options: SendTextOptions = {},
  ): Promise<{ messageId: string }> {
    let rest = text;
    let messageId = '';
    // Only the first message of a long text quotes: the rest continue it.
    let cloudCustomData = options.quote ? replyCloudData(options.quote) : undefined;
    do {
      const piece = cleanPrefix(rest, MESSAGE_MAX_BYTES - utf8Bytes(mentionPrefix(mentionsOf(target))));
      const quoting = cloudCustomData === undefined ? {} : { cloudCustomData };
      if ('groupId' in target) {
        const sent = await this.im.sendGroupMsg({
          from: target.botId,
          groupId: target.groupId,
          text: piece,
          mention: target.mention,
          ...quoting,
        });
        messageId = String(sent.msgSeq);
      } else {
        messageId = (
          await this.im.sendMsg({ from: target.botId, to: target.userId, text: piece, ...quoting })
        ).msgKey;
      }
      cloudCustomData = undefined;
      rest = rest.slice(piece.length);
    } while (rest !== '');
    return { messageId };
  }

  /**
   * Marks the user's one-to-one chat with the bot read up to `sentAt` (default now), so their client
   * shows the bot read it (`admin_set_msg_read`). Tencent has no read mark a bot can set in a group.
   */
  async markRead(target: ReplyTarget, _messageId: string, sentAt?: Date): Promise<void> {
    if ('groupId' in target) throw notInGroups('markRead');
    await this.im.setMsgRead({
      reader: target.botId,
      peer: target.userId,
      ...(sentAt ? { time: Math.ceil(sentAt.getTime() / 1000) } : {}),
    });
  }

  /**
   * Sends a rich message as the bot: an image (`TIMImageElem`), a file (`TIMFileElem`) or a card
   * (`TIMCustomElem` carrying the card JSON, its `Desc` the text fallback). Id as for `sendText`.
   */
  async sendMessage(target: ReplyTarget, message: RichMessage): Promise<{ messageId: string }> {
    const checked = await this.buttons.sign(target, parseRichMessage(message));
    if (checked.type === 'text') return this.sendText(target, checked.text);
    const msgBody = tencentElements(checked);
    if ('groupId' in target) {
      const sent = await this.im.sendGroupMsg({
        from: target.botId,
        groupId: target.groupId,
        msgBody,
        mention: target.mention,
      });
      return { messageId: String(sent.msgSeq) };
    }
    return { messageId: (await this.im.sendMsg({ from: target.botId, to: target.userId, msgBody })).msgKey };
  }

  /**
   * Sends a TUIKit branch card (`src: 15`, `welcome_msg` or `clarify_msg`) whose items TUIKit's
   * robot chat shows as taps that send the item's text: `branchData` says which version carries it.
   */
  async sendQuestions(target: ReplyTarget, questions: Questions): Promise<{ messageId: string }> {
    const q = parseInput(questionsInput, questions, 'questions');
    const subtype = q.kind === 'welcome' ? 'welcome_msg' : 'clarify_msg';
    const msgBody = [chatbotElement(branchData(subtype, q.title, q.items))];
    if ('groupId' in target) {
      const sent = await this.im.sendGroupMsg({
        from: target.botId,
        groupId: target.groupId,
        msgBody,
        mention: target.mention,
      });
      return { messageId: String(sent.msgSeq) };
    }
    return { messageId: (await this.im.sendMsg({ from: target.botId, to: target.userId, msgBody })).msgKey };
  }

  /**
   * With `streamFormat: 'tuikit'`: a `src: 23` message, TUIKit's error state, which ends the
   * thinking bubble and hides the Stop button TUIKit shows until a robot message comes
   * (notes/tuikit-protocol.md §3.1, §6). Nothing in the stream format.
   */
  async answerFailed(target: ReplyTarget): Promise<void> {
    if (this.im.streamFormat !== 'tuikit') return;
    const msgBody = [chatbotElement(errorData(DEFAULT_ERROR_INFO))];
    if ('groupId' in target) {
      await this.im.sendGroupMsg({
        from: target.botId,
        groupId: target.groupId,
        msgBody,
        mention: target.mention,
      });
      return;
    }
    await this.im.sendMsg({ from: target.botId, to: target.userId, msgBody });
  }

  /**
   * Puts a robot into a group: `add_group_member`, or for a live-streaming group (`AVChatRoom`,
   * which has no member list to add to) `add_robots`, after asking the group's type.
   */
  async addBotToGroup(botId: string, groupId: string): Promise<void> {
    const bot = parseInput(robotId, botId, 'botId');
    if ((await this.im.getGroupType(groupId)) === 'AVChatRoom')
      await this.im.addLiveGroupRobots(groupId, [bot]);
    else await this.im.addGroupMembers(groupId, [bot]);
  }

  /** Takes a robot out of a group: `delete_group_member`, or `del_robots` for a live-streaming group. */
  async removeBotFromGroup(botId: string, groupId: string): Promise<void> {
    const bot = parseInput(robotId, botId, 'botId');
    if ((await this.im.getGroupType(groupId)) === 'AVChatRoom')
      await this.im.deleteLiveGroupRobots(groupId, [bot]);
    else await this.im.deleteGroupMembers(groupId, [bot]);
  }

  /**
   * Rewrites a message the bot sent: one-to-one by its `MsgKey` (`openim/modify_c2c_msg`), in a
   * group by its `MsgSeq` (`openim/modify_group_msg`), keeping the group reply's @-mentions.
   */
  async updateText(
    target: ReplyTarget,
    messageId: string,
    text: string,
    options: UpdateTextOptions = {},
  ): Promise<void> {
    const whole = options.partial ? closeMarkdown(text) : text;
    const body = parseInput(maxBytes(MESSAGE_MAX_BYTES).min(1, 'must not be empty'), whole, 'text');
    if ('groupId' in target) {
      const { msgBody } = withMentions([textElement(body)], mentionsOf(target));
      await this.im.call(
        'openim/modify_group_msg',
        { GroupId: target.groupId, MsgSeq: groupSeq(messageId), MsgBody: msgBody },
        { retry: 'idempotent' },
      );
      return;
    }
    await this.im.call(
      'openim/modify_c2c_msg',
      {
        From_Account: target.botId,
        To_Account: target.userId,
        MsgKey: messageId,
        MsgBody: [textElement(body)],
      },
      { retry: 'idempotent' },
    );
  }

  /**
   * Recalls a message the bot sent: one-to-one (`openim/admin_msgwithdraw`), or in a group
   * (`group_open_http_svc/group_msg_recall`).
   */
  async deleteMessage(target: ReplyTarget, messageId: string): Promise<void> {
    if ('groupId' in target) {
      const answer = await this.im.call(
        'group_open_http_svc/group_msg_recall',
        { GroupId: target.groupId, MsgSeqList: [{ MsgSeq: groupSeq(messageId) }] },
        { retry: 'idempotent' },
      );
      const failed = (answer.RecallRetList as { RetCode?: number }[] | undefined)?.find((r) => r.RetCode);
      if (failed) {
        throw new TencentApiError(failed.RetCode as number, `message ${messageId} was not recalled`, {
          endpoint: 'v4/group_open_http_svc/group_msg_recall',
          retryable: false,
        });
      }
      return;
    }
    await this.im.call(
      'openim/admin_msgwithdraw',
      { From_Account: target.botId, To_Account: target.userId, MsgKey: messageId },
      { retry: 'idempotent' },
    );
  }

  /**
   * History through `admin_getroammsg` (one-to-one, as the bot sees it) and `group_msg_get_simple`
   * (groups, 20 at most per call). The cursor is the page's last `MsgTime` and `MsgKey`, or the
   * next older `MsgSeq` in a group.
   */
  async readHistory(
    target: ReplyTarget,
    options: { before?: string; limit?: number } = {},
  ): Promise<HistorySlice> {
    const limit = parseInput(z.number().int().min(1).max(100), options.limit ?? 20, 'limit');
    if ('groupId' in target) {
      const upToSeq = options.before === undefined ? undefined : groupSeq(options.before);
      const page = await this.im.getGroupMessages({
        groupId: target.groupId,
        count: Math.min(limit, 20),
        ...(upToSeq ? { upToSeq } : {}),
      });
      const oldest = page.messages.at(-1)?.msgSeq ?? 1;
      const slice: HistorySlice = {
        messages: storedMessages(page.messages, { type: 'group', groupId: target.groupId }, (m) =>
          String(m.msgSeq),
        ),
      };
      if (!page.complete && oldest > 1) slice.before = String(oldest - 1);
      return slice;
    }
    const [time, key] = options.before === undefined ? [] : splitRoamCursor(options.before);
    const page = await this.im.getRoamMessages({
      operator: target.botId,
      peer: target.userId,
      minTime: 0,
      maxTime: time ?? Math.ceil(Date.now() / 1000),
      maxCount: limit,
      ...(key ? { lastMsgKey: key } : {}),
    });
    const slice: HistorySlice = {
      messages: storedMessages(page.messages, { type: 'c2c', userId: target.userId }, (m) => m.msgKey ?? ''),
    };
    if (!page.complete && page.lastMsgKey !== undefined && page.lastMsgTime !== undefined) {
      slice.before = `${page.lastMsgTime}_${page.lastMsgKey}`;
    }
    return slice;
  }

  typing(target: ReplyTarget): TypingIndicator | undefined {
    return 'groupId' in target ? undefined : this.im.typing({ from: target.botId, to: target.userId });
  }

  openStream(target: ReplyTarget, options?: StreamSessionOptions): StreamSession {
    return 'groupId' in target
      ? this.im.openStream({ from: target.botId, groupId: target.groupId, mention: target.mention }, options)
      : this.im.openStream({ from: target.botId, to: target.userId }, options);
  }
}

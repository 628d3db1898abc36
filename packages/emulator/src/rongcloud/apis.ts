import type { RichMessage } from '@imbot/core';
import { richMessageSchema, TYPING_OBJECT_NAME } from '@imbot/core/internal';
import { CARD_OBJECT_NAME } from '@imbot/core/rongcloud';
import * as z from 'zod';
import type { Message } from '../chat-state.js';
import { bytes as utf8Bytes } from './rules.js';
import type { RongBotRecord, RongCloudState } from './state.js';

/** An answer: the business code (200 for success) and, on success, the payload's fields. */
export type RongAnswer = { code: number; errorMessage?: string } & Record<string, unknown>;

const ok = (fields: Record<string, unknown> = {}): RongAnswer => ({ code: 200, ...fields });
const fail = (code: number, errorMessage: string): RongAnswer => ({ code, errorMessage });

/** Bots per app, bots per get, and the size of one message or streaming request. */
const MAX_BOTS = 10;
const MAX_GET = 20;
export const RONG_MAX_BYTES = 128 * 1024;
/** A one-to-one read notice (`RC:ReadNtf`): what its sender has read up to `lastMessageSendTime`. */
const READ_NOTICE = 'RC:ReadNtf';

export interface RongContext {
  state: RongCloudState;
  streamIdleMs: number;
  now(): number;
  newUid(): string;
  streams: Map<string, { message: Message; seq: number }>;
}

export type RongHandler = (body: Record<string, unknown>, ctx: RongContext) => RongAnswer;

const chars = (max: number) =>
  z.string().refine((s) => Array.from(s).length <= max, `at most ${max} characters`);
const integration = z.looseObject({
  type: z.string().min(1),
  callbackUrl: z.string().min(1),
  enabled: z.boolean().optional(),
  objectNames: z.array(z.string()).optional(),
  events: z.array(z.string()).optional(),
});
const metadata = z
  .record(chars(32).pipe(z.string().min(1)), chars(128).pipe(z.string().min(1)))
  .refine((m) => Object.keys(m).length <= 16, 'at most 16 pairs');
const botFields = z.object({
  userId: chars(64).pipe(z.string().min(1)),
  name: chars(128),
  type: chars(128),
  profileUrl: chars(256),
  metadata: metadata.optional(),
  integrations: z.array(integration),
});

function parse<S extends z.ZodType>(
  schema: S,
  body: unknown,
): { data: z.output<S> } | { answer: RongAnswer } {
  const result = schema.safeParse(body);
  if (result.success) return { data: result.data };
  const issue = result.error.issues[0];
  return { answer: fail(1002, `parameter error: ${issue?.path.join('.') || 'body'} ${issue?.message}`) };
}

function view(bot: RongBotRecord, withIntegrations = true): Record<string, unknown> {
  const { integrations, ...rest } = bot;
  return withIntegrations ? { ...rest, integrations } : rest;
}

const createBot: RongHandler = (body, ctx) => {
  const parsed = parse(botFields, body);
  if ('answer' in parsed) return parsed.answer;
  const b = parsed.data;
  if (ctx.state.bots.has(b.userId)) return fail(1002, `parameter error: bot ${b.userId} already exists`);
  if (ctx.state.bots.size >= MAX_BOTS)
    return fail(1002, `parameter error: an app has at most ${MAX_BOTS} bots`);
  const now = ctx.now();
  ctx.state.putBot({ ...b, metadata: b.metadata ?? {}, createdAt: now, updatedAt: now } as RongBotRecord);
  return ok();
};

const getBots: RongHandler = (body, ctx) => {
  const parsed = parse(z.looseObject({ userIds: z.array(z.string()).min(1).max(MAX_GET) }), body);
  if ('answer' in parsed) return parsed.answer;
  const bots = parsed.data.userIds.map((id) => ctx.state.bots.get(id)).filter((b): b is RongBotRecord => !!b);
  return ok({ bots: bots.map((b) => view(b)) });
};

const queryBots: RongHandler = (body, ctx) => {
  const parsed = parse(
    z.looseObject({
      page: z.number().int().min(1).default(1),
      pageSize: z.number().int().min(1).max(100).default(10),
      includeIntegration: z.boolean().default(false),
    }),
    body,
  );
  if ('answer' in parsed) return parsed.answer;
  const { page, pageSize, includeIntegration } = parsed.data;
  const all = [...ctx.state.bots.values()];
  const slice = all.slice((page - 1) * pageSize, page * pageSize);
  return ok({
    total: all.length,
    hasNext: page * pageSize < all.length,
    bots: slice.map((b) => view(b, includeIntegration)),
  });
};

const updateBot: RongHandler = (body, ctx) => {
  const parsed = parse(botFields.partial().required({ userId: true }), body);
  if ('answer' in parsed) return parsed.answer;
  const { userId, ...changes } = parsed.data;
  const bot = ctx.state.bots.get(userId);
  if (!bot) return fail(1002, `parameter error: no bot ${userId}`);
  ctx.state.putBot({ ...bot, ...(changes as Partial<RongBotRecord>), updatedAt: ctx.now() });
  return ok();
};

const deleteBot: RongHandler = (body, ctx) => {
  const parsed = parse(z.looseObject({ userId: z.string().min(1) }), body);
  if ('answer' in parsed) return parsed.answer;
  ctx.state.deleteBot(parsed.data.userId);
  return ok();
};

function integrationCall(kind: 'create' | 'update' | 'delete'): RongHandler {
  return (body, ctx) => {
    const schema =
      kind === 'delete'
        ? z.looseObject({ userId: z.string(), type: z.string() })
        : integration.extend({ userId: z.string() });
    const parsed = parse(schema, body);
    if ('answer' in parsed) return parsed.answer;
    const { userId, ...fields } = parsed.data as { userId: string; type: string } & Record<string, unknown>;
    const bot = ctx.state.bots.get(userId);
    if (!bot) return fail(1002, `parameter error: no bot ${userId}`);
    const others = bot.integrations.filter((i) => i.type !== fields.type);
    const exists = others.length !== bot.integrations.length;
    if (kind === 'create' && exists)
      return fail(1002, `parameter error: bot ${userId} already has a ${fields.type} integration`);
    if (kind !== 'create' && !exists)
      return fail(1002, `parameter error: bot ${userId} has no ${fields.type} integration`);
    const integrations =
      kind === 'delete' ? others : [...others, fields as RongBotRecord['integrations'][number]];
    ctx.state.putBot({ ...bot, integrations, updatedAt: ctx.now() });
    return ok();
  };
}

/** What a client needs of each type it renders; the emulator refuses content that lacks it. */
const contentChecks: Record<string, z.ZodType> = {
  'RC:TxtMsg': z.looseObject({ content: z.string() }),
  'RC:ImgMsg': z.looseObject({ imageUri: z.url() }),
  'RC:FileMsg': z.looseObject({ name: z.string().min(1), fileUrl: z.url() }),
};

/** The users a content's `mentionedInfo` names. */
function mentionsIn(content: Record<string, unknown>): string[] {
  const mentioned = (content.mentionedInfo as { userIdList?: unknown } | undefined)?.userIdList;
  return Array.isArray(mentioned) ? mentioned.filter((m): m is string => typeof m === 'string') : [];
}

/**
 * What a client shows for a message's content: the text of `RC:TxtMsg`; for an image, a file or a
 * card (`IMB:CardMsg`, rendered as the card when its JSON is one) a label or the card's fallback
 * `content`; for other types the type. Also the users it @-mentions.
 */
function shown(
  objectName: string,
  content: Record<string, unknown>,
):
  | {
      text: string;
      kind: 'text' | 'custom';
      content?: RichMessage;
      mentions?: string[];
      quote?: Message['quote'];
    }
  | RongAnswer {
  const check = contentChecks[objectName]?.safeParse(content);
  if (check && !check.success) {
    const issue = check.error.issues[0];
    return fail(1002, `parameter error: content.${issue?.path.join('.')} ${issue?.message}`);
  }
  const mentioned = (content.mentionedInfo as { userIdList?: unknown } | undefined)?.userIdList;
  const mentions = Array.isArray(mentioned)
    ? mentioned.filter((m): m is string => typeof m === 'string')
    : [];
  const extra = mentions.length > 0 ? { mentions } : {};
  switch (objectName) {
    case 'RC:TxtMsg':
      return { text: content.content as string, kind: 'text', ...extra };
    case 'RC:ReferenceMsg': {
      // A quote: its own text, and the message it refers to, shown above it.
      const referred = (content.referMsg as { content?: unknown } | undefined)?.content;
      const quote = {
        messageId: String(content.referMsgUid ?? ''),
        text: typeof referred === 'string' ? referred : '',
        ...(typeof content.referMsgUserId === 'string' ? { from: content.referMsgUserId } : {}),
      };
      return { text: String(content.content ?? ''), kind: 'text', quote, ...extra };
    }
    case 'RC:ImgMsg':
      return {
        text: '[Image]',
        kind: 'custom',
        content: { type: 'image', url: content.imageUri as string },
        ...extra,
      };
    case 'RC:FileMsg':
      return {
        text: `[File: ${content.name as string}]`,
        kind: 'custom',
        content: { type: 'file', url: content.fileUrl as string, name: content.name as string },
        ...extra,
      };
    case CARD_OBJECT_NAME: {
      const { businessID: _, version: __, content: fallback, mentionedInfo: ___, ...fields } = content;
      const card = richMessageSchema.safeParse({ ...fields, type: 'card' });
      const text = typeof fallback === 'string' ? fallback : `[${objectName}]`;
      return card.success
        ? { text, kind: 'custom', content: card.data as RichMessage, ...extra }
        : { text, kind: 'custom', ...extra };
    }
    default:
      return { text: `[${objectName}]`, kind: 'custom', ...extra };
  }
}

/** The fields of a classic publish: sender, up to 1,000 users or 3 groups, the type and its JSON content. */
function messageFields(group: boolean) {
  return {
    fromUserId: z.string().min(1),
    ...(group
      ? { toGroupId: z.union([z.string(), z.array(z.string()).min(1).max(3)]) }
      : { toUserId: z.union([z.string(), z.array(z.string()).min(1).max(1000)]) }),
    objectName: z.string().min(1),
    content: z.string().min(1),
  };
}

function publish(group: boolean): RongHandler {
  return (body, ctx) => {
    const parsed = parse(z.looseObject(messageFields(group)), body);
    if ('answer' in parsed) return parsed.answer;
    const data = parsed.data as {
      fromUserId: string;
      toUserId?: string | string[];
      toGroupId?: string | string[];
      objectName: string;
      content: string;
    };
    if (utf8Bytes(data.content) > RONG_MAX_BYTES)
      return fail(1005, 'parameter too long: content over 128 KB');
    let content: Record<string, unknown>;
    try {
      content = JSON.parse(data.content);
    } catch {
      return fail(1002, 'parameter error: content is not JSON');
    }
    const targets = [data.toUserId ?? data.toGroupId ?? []].flat();
    const now = ctx.now();
    if (data.objectName === READ_NOTICE && !group) {
      // A read notice is no message of its own: its recipient's client shows what it had sent as read.
      const upTo = typeof content.lastMessageSendTime === 'number' ? content.lastMessageSendTime : now;
      for (const to of targets) ctx.state.markRead(data.fromUserId, to, upTo);
      return ok({ messageUIDs: targets.map((userId) => ({ userId, messageUID: ctx.newUid() })) });
    }
    const view = shown(data.objectName, content);
    if ('code' in view) return view;
    const { text, kind } = view;
    const messageUIDs = targets.map((to) => {
      // The sender need not be a member; a group is made on first use (the emulator's stand-in for the app's own groups).
      if (group) ctx.state.ensureGroup(to, 'group');
      const message = ctx.state.add({
        msgKey: ctx.newUid(),
        from: data.fromUserId,
        to,
        ...(group ? { groupId: to } : {}),
        ...(view.content ? { content: view.content } : {}),
        ...(group && view.mentions ? { mentions: view.mentions } : {}),
        ...(view.quote ? { quote: view.quote } : {}),
        kind,
        text,
        state: 'finished',
        time: now,
        updatedAt: now,
        calls: 1,
      });
      return { [group ? 'groupId' : 'userId']: to, messageUID: message.msgKey };
    });
    return ok({ messageUIDs });
  };
}

/** RongCloud's clients show a typing status for this long after it arrives. */
export const TYPING_SHOWN_MS = 6000;

/** `RC:TypSts` content: the type of message being typed, and optionally a word of what runs. */
const typingContent = z.looseObject({ typingContentType: z.string().min(1), data: z.string().optional() });

/**
 * `/statusmessage/{private|group}/publish.json`: a status message, delivered to the clients online
 * now and stored nowhere (not counted unread, not pushed). `RC:TypSts` shows "typing…" in a
 * one-to-one chat; clients show no typing in groups.
 */
function publishStatus(group: boolean): RongHandler {
  return (body, ctx) => {
    const parsed = parse(
      z.looseObject({
        ...messageFields(group),
        verifyBlacklist: z.enum(['0', '1']).optional(),
        isIncludeSender: z.enum(['0', '1']).optional(),
      }),
      body,
    );
    if ('answer' in parsed) return parsed.answer;
    const data = parsed.data as {
      fromUserId: string;
      toUserId?: string | string[];
      objectName: string;
      content: string;
    };
    let content: unknown;
    try {
      content = JSON.parse(data.content);
    } catch {
      return fail(1002, 'parameter error: content is not JSON');
    }
    if (data.objectName !== TYPING_OBJECT_NAME || group) return ok();
    const check = typingContent.safeParse(content);
    if (!check.success) {
      const issue = check.error.issues[0];
      return fail(1002, `parameter error: content.${issue?.path.join('.')} ${issue?.message}`);
    }
    for (const to of [data.toUserId ?? []].flat())
      ctx.state.setTyping(data.fromUserId, to, true, TYPING_SHOWN_MS, check.data.data);
    return ok();
  };
}

function publishStream(group: boolean): RongHandler {
  return (body, ctx) => {
    const parsed = parse(
      z.looseObject({
        fromUserId: z.string().min(1),
        ...(group ? { toGroupId: z.string().min(1) } : { toUserId: z.string().min(1) }),
        objectName: z.literal('RC:StreamMsg'),
        content: z.looseObject({
          content: z.string(),
          seq: z.number().int().min(1),
          complete: z.boolean().optional(),
          completeReason: z.string().max(64).optional(),
          messageUID: z.string().optional(),
        }),
      }),
      body,
    );
    if ('answer' in parsed) return parsed.answer;
    const data = parsed.data as {
      fromUserId: string;
      toUserId?: string;
      toGroupId?: string;
      content: {
        content: string;
        seq: number;
        complete?: boolean;
        completeReason?: string;
        messageUID?: string;
      };
    };
    const piece = data.content;
    if (utf8Bytes(JSON.stringify(body)) > RONG_MAX_BYTES)
      return fail(1005, 'parameter too long: request over 128 KB');
    const now = ctx.now();
    const to = (data.toUserId ?? data.toGroupId) as string;
    if (!piece.messageUID) {
      if (piece.seq !== 1) return fail(1002, 'parameter error: a new stream starts at seq 1');
      if (group) ctx.state.ensureGroup(to, 'group');
      // The stream documents give no mention field: the emulator takes mentionedInfo on the first piece, as in RC:TxtMsg.
      const mentions = mentionsIn(piece as Record<string, unknown>);
      const message = ctx.state.add({
        msgKey: ctx.newUid(),
        from: data.fromUserId,
        to,
        ...(group ? { groupId: to } : {}),
        ...(group && mentions.length > 0 ? { mentions } : {}),
        kind: 'stream',
        text: piece.content,
        state: piece.complete ? 'finished' : 'streaming',
        ...(piece.complete && piece.completeReason ? { completeReason: piece.completeReason } : {}),
        time: now,
        updatedAt: now,
        calls: 1,
      });
      ctx.streams.set(message.msgKey, { message, seq: 1 });
      return ok({ messageUID: message.msgKey });
    }
    const stream = ctx.streams.get(piece.messageUID);
    if (!stream || stream.message.from !== data.fromUserId || stream.message.to !== to) {
      return fail(1002, `parameter error: unknown messageUID ${piece.messageUID}`);
    }
    ctx.state.settleIdle(stream.message, ctx.streamIdleMs, ctx.now());
    if (stream.message.state !== 'streaming')
      return fail(1002, `parameter error: the stream ${piece.messageUID} has ended`);
    if (piece.seq !== stream.seq + 1)
      return fail(1002, `parameter error: seq ${piece.seq} out of order; expected ${stream.seq + 1}`);
    if (utf8Bytes(stream.message.text) + utf8Bytes(piece.content) >= RONG_MAX_BYTES) {
      return fail(1005, 'parameter too long: the message would reach 128 KB');
    }
    stream.seq = piece.seq;
    stream.message.text += piece.content;
    stream.message.calls++;
    stream.message.updatedAt = now;
    if (piece.complete) {
      stream.message.state = 'finished';
      if (piece.completeReason) stream.message.completeReason = piece.completeReason;
    }
    ctx.state.touch(stream.message);
    return ok({ messageUID: piece.messageUID });
  };
}

/**
 * `/v3/message/get_stream.json`: a stream's content as the server holds it, by its `messageUID`.
 * RongCloud lists this API ("服务端获取流内容") but the page of its fields was not readable; the
 * emulator answers the assembled `content`, the last `seq` applied and `complete`.
 */
const getStream: RongHandler = (body, ctx) => {
  const parsed = parse(z.looseObject({ messageUID: z.string().min(1) }), body);
  if ('answer' in parsed) return parsed.answer;
  const stream = ctx.streams.get(parsed.data.messageUID);
  if (!stream) return fail(1002, `parameter error: unknown messageUID ${parsed.data.messageUID}`);
  ctx.state.settleIdle(stream.message, ctx.streamIdleMs, ctx.now());
  const { message } = stream;
  return ok({
    messageUID: message.msgKey,
    fromUserId: message.from,
    content: message.text,
    seq: stream.seq,
    complete: message.state !== 'streaming',
  });
};

const recall: RongHandler = (body, ctx) => {
  const parsed = parse(
    z.looseObject({
      fromUserId: z.string().min(1),
      conversationType: z.enum(['1', '3']),
      targetId: z.string().min(1),
      messageUID: z.string().min(1),
      sentTime: z.string().regex(/^\d+$/, 'must be milliseconds since the epoch'),
      isDelete: z.enum(['0', '1']).optional(),
    }),
    body,
  );
  if ('answer' in parsed) return parsed.answer;
  const r = parsed.data;
  const message = ctx.state.byKey(r.messageUID);
  const group = r.conversationType === '3';
  const where = group ? message?.groupId : message?.groupId === undefined ? message?.to : undefined;
  if (!message || message.from !== r.fromUserId || where !== r.targetId) {
    return fail(
      1002,
      `parameter error: no message ${r.messageUID} from ${r.fromUserId} in that conversation`,
    );
  }
  // sentTime is required; the emulator finds the message by its UID and does not hold the time to it.
  if (message.state !== 'recalled') {
    message.state = 'recalled';
    if (r.isDelete === '1') message.silent = true;
    message.updatedAt = ctx.now();
    ctx.state.touch(message);
  }
  return ok();
};

/** `/group/join.json` and `/group/quit.json`: a group is made when its first members join. */
function groupMembers(join: boolean): RongHandler {
  return (body, ctx) => {
    const parsed = parse(
      z.looseObject({
        userId: z.union([z.string().min(1), z.array(z.string().min(1)).min(1).max(1000)]),
        groupId: chars(64).pipe(z.string().min(1)),
        groupName: z.string().optional(),
      }),
      body,
    );
    if ('answer' in parsed) return parsed.answer;
    const { userId, groupId } = parsed.data;
    if (join) ctx.state.ensureGroup(groupId, 'group');
    for (const id of [userId].flat()) {
      if (join) ctx.state.join(groupId, id);
      else ctx.state.leave(groupId, id);
    }
    return ok();
  };
}

/** Every API the RongCloud emulator answers, by path. */
export const rongCloudApis: Readonly<Record<string, RongHandler>> = {
  '/v3/bot/create.json': createBot,
  '/v3/bot/get.json': getBots,
  '/v3/bot/query.json': queryBots,
  '/v3/bot/update.json': updateBot,
  '/v3/bot/delete.json': deleteBot,
  '/v3/bot/integration/create.json': integrationCall('create'),
  '/v3/bot/integration/update.json': integrationCall('update'),
  '/v3/bot/integration/delete.json': integrationCall('delete'),
  '/message/private/publish.json': publish(false),
  '/message/group/publish.json': publish(true),
  '/message/recall.json': recall,
  '/statusmessage/private/publish.json': publishStatus(false),
  '/statusmessage/group/publish.json': publishStatus(true),
  '/group/join.json': groupMembers(true),
  '/group/quit.json': groupMembers(false),
  '/v3/message/private/publish_stream.json': publishStream(false),
  '/v3/message/group/publish_stream.json': publishStream(true),
  '/v3/message/get_stream.json': getStream,
};

/** The HTTP status RongCloud sends with each business code. */
export function statusOf(code: number): number {
  const statuses: Record<number, number> = {
    200: 200,
    1000: 500,
    1001: 401,
    1002: 400,
    1003: 400,
    1004: 401,
    1005: 400,
    1006: 401,
    1007: 401,
    1008: 429,
    1009: 430,
    1050: 504,
  };
  return statuses[code] ?? 500;
}

import { crc32 } from 'node:zlib';
import type { RichMessage } from '@imbot/core';
import { CARD_BUSINESS_ID, richMessageSchema, TYPING_BUSINESS_ID } from '@imbot/core/internal';
import * as z from 'zod';
import type { Message } from '../chat-state.js';
import { SlidingWindow } from '../window.js';
import {
  GROUP_AT_MAX,
  GROUP_MEMBERS_PER_CALL,
  MESSAGE_MAX_BYTES,
  PROFILE_FIELD_MAX_BYTES,
  ROBOT_ID_MAX_BYTES,
  ROBOT_PREFIX,
  ROBOTS_PER_APP,
  FREQUENCY_LIMIT as TENCENT_FREQUENCY_LIMIT,
  bytes as utf8Bytes,
} from './rules.js';
import type { Profile, TencentState } from './state.js';

/** An answer's fields; the envelope (`ActionStatus`, `ErrorInfo`) is added when it is sent. */
export type Answer = { ErrorCode: number; ErrorInfo?: string } & Record<string, unknown>;

export const ok = (fields: Record<string, unknown> = {}): Answer => ({ ErrorCode: 0, ...fields });
export const fail = (code: number, info: string): Answer => ({ ErrorCode: code, ErrorInfo: info });

/** Code the emulator answers for a message over its size limit (the cloud's "msg too long"). */
export const MSG_TOO_LONG = 93000;
/** `stream_msg` messages must stay under 128 KB. */
export const STREAM_MSG_MAX_BYTES = 128 * 1024;
/** `stream_msg` streams accept 5 calls per second each. */
const STREAM_MSG_CALLS_PER_SECOND = 5;
/** `sendmsg` de-duplicates identical sends for 120 s. */
const DEDUP_MS = 120_000;

/** A `stream_msg` stream: its message, the next chunk index it expects, and its pace. */
export interface StreamMsg {
  message: Message;
  nextIndex: number;
  pace: SlidingWindow;
}

/** What an API handler may read and change. */
export interface ApiContext {
  state: TencentState;
  admin: string;
  /** A stream with no call for this long is ended by the cloud. */
  streamIdleMs: number;
  /** Milliseconds since the epoch. */
  now(): number;
  /** Monotonic milliseconds, for rates. */
  monotonic(): number;
  dedup: Map<string, { msgKey: string; msgTime: number; at: number }>;
  streams: Map<string, StreamMsg>;
  /** A message reached a robot: the robot callback fires. */
  deliveredToRobot(message: Message, msgBody: unknown[], seqAndRandom: { seq: number; random: number }): void;
}

export type Handler = (body: Record<string, unknown>, ctx: ApiContext) => Answer;

export const uint32 = z
  .number()
  .int()
  .min(0)
  .max(2 ** 32 - 1);
const element = z.looseObject({ MsgType: z.string(), MsgContent: z.looseObject({}) });

function isRobotId(id: string): boolean {
  return id.startsWith(ROBOT_PREFIX) && utf8Bytes(id) <= ROBOT_ID_MAX_BYTES;
}

/** Parses a body with `schema`, or answers 10004 naming the first bad field. */
export function parse<S extends z.ZodType>(
  schema: S,
  body: unknown,
): { data: z.output<S> } | { answer: Answer } {
  const result = schema.safeParse(body);
  if (result.success) return { data: result.data };
  const issue = result.error.issues[0];
  return { answer: fail(10004, `invalid parameter ${issue?.path.join('.') || 'body'}: ${issue?.message}`) };
}

/** A card's JSON, as a neutral card when it is one (a client without the renderer shows `Desc`). */
function cardOf(data: unknown): RichMessage | undefined {
  if (typeof data !== 'string') return undefined;
  try {
    const { businessID, version: _, ...fields } = JSON.parse(data) as Record<string, unknown>;
    if (businessID !== CARD_BUSINESS_ID) return undefined;
    const card = richMessageSchema.safeParse({ ...fields, type: 'card' });
    return card.success ? (card.data as RichMessage) : undefined;
  } catch {
    return undefined;
  }
}

/** What a client shows for a message body (see `render`). */
interface Rendered {
  text: string;
  kind: 'text' | 'stream' | 'custom';
  bytes: number;
  content?: RichMessage;
  /** TUIKit's AI-robot data, when the body is such a message. */
  chatbot?: Record<string, unknown>;
  /** `streaming` for a TUIKit stream message not finished yet. */
  state?: 'streaming' | 'finished';
}

/**
 * TUIKit's AI-robot data of `data` (a custom element's `Data` with a numeric `chatbotPlugin`): the
 * text TUIKit shows for it (a stream's joined `chunks`, an error's `errorInfo`) and whether it is
 * still streaming (`src: 2` with `isFinished` not 1; TUIKit's Stop button shows then).
 */
function chatbotOf(data: unknown): Pick<Rendered, 'text' | 'chatbot' | 'state'> | undefined {
  if (typeof data !== 'string' || !data.includes('chatbotPlugin')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const d = parsed as Record<string, unknown>;
  if (typeof d.chatbotPlugin !== 'number') return undefined;
  const chunks = Array.isArray(d.chunks) ? d.chunks.filter((c) => typeof c === 'string').join('') : '';
  if (d.src === 23) return { text: String(d.errorInfo ?? ''), chatbot: d, state: 'finished' };
  if (d.src === 2) return { text: chunks, chatbot: d, state: d.isFinished === 1 ? 'finished' : 'streaming' };
  const content = d.content as { title?: unknown } | undefined;
  return { text: typeof content?.title === 'string' ? content.title : '', chatbot: d };
}

/** What a client needs of each element it renders; the emulator refuses elements that lack it. */
const elementChecks: Record<string, z.ZodType> = {
  TIMTextElem: z.looseObject({ Text: z.string() }),
  TIMImageElem: z.looseObject({
    ImageInfoArray: z.array(z.looseObject({ Type: z.number().int(), URL: z.url() })).min(1),
  }),
  TIMFileElem: z.looseObject({ Url: z.url(), FileName: z.string().min(1) }),
  TIMCustomElem: z.looseObject({ Data: z.string() }),
};

/**
 * What a client shows for a message body: its text (a custom element's `Desc`, else its type), the
 * image, file or card it renders, and how many bytes of content it carries; or a 10004 answer for
 * an element a client could not render.
 */
function render(msgBody: z.infer<typeof element>[]): Rendered | Answer {
  let text = '';
  let bytes = 0;
  let kind: Rendered['kind'] = 'text';
  let content: RichMessage | undefined;
  let chatbot: ReturnType<typeof chatbotOf>;
  for (const [i, el] of msgBody.entries()) {
    const c = el.MsgContent as Record<string, unknown>;
    const check = elementChecks[el.MsgType]?.safeParse(c);
    if (check && !check.success) {
      const issue = check.error.issues[0];
      return fail(
        10004,
        `invalid parameter MsgBody.${i}.MsgContent.${issue?.path.join('.')}: ${issue?.message}`,
      );
    }
    if (el.MsgType === 'TIMTextElem') {
      text += c.Text as string;
      bytes += utf8Bytes(c.Text as string);
      continue;
    }
    kind = 'custom';
    bytes += utf8Bytes(JSON.stringify(c));
    if (el.MsgType === 'TIMImageElem') {
      const images = c.ImageInfoArray as { Type: number; URL: string }[];
      const url = (images.find((img) => img.Type === 1) ?? images[0])?.URL as string;
      content ??= { type: 'image', url };
      text += '[Image]';
    } else if (el.MsgType === 'TIMFileElem') {
      content ??= { type: 'file', url: c.Url as string, name: c.FileName as string };
      text += `[File: ${c.FileName as string}]`;
    } else {
      const robot = el.MsgType === 'TIMCustomElem' && !chatbot ? chatbotOf(c.Data) : undefined;
      if (robot) {
        chatbot = robot;
        text += robot.text;
        continue;
      }
      if (el.MsgType === 'TIMCustomElem') content ??= cardOf(c.Data);
      text += typeof c.Desc === 'string' && c.Desc ? c.Desc : `[${el.MsgType}]`;
    }
  }
  const rendered: Rendered = content ? { text, kind, bytes, content } : { text, kind, bytes };
  if (chatbot?.chatbot) {
    rendered.chatbot = chatbot.chatbot;
    if (chatbot.state) rendered.state = chatbot.state;
    if (chatbot.chatbot.src === 2) rendered.kind = 'stream';
  }
  return rendered;
}

/** `GroupAtInfo`: the users a group message @-mentions. */
const groupAtInfo = z
  .array(z.looseObject({ GroupAt_Account: z.string().min(1) }))
  .max(GROUP_AT_MAX)
  .optional();

const PROFILE_TAGS: Record<string, keyof Profile> = {
  Tag_Profile_IM_Nick: 'nick',
  Tag_Profile_IM_Image: 'faceUrl',
  Tag_Profile_IM_SelfSignature: 'selfSignature',
};

const createRobot: Handler = (body, ctx) => {
  const parsed = parse(
    z.looseObject({
      UserID: z.string(),
      Nick: z.string().optional(),
      FaceUrl: z.string().optional(),
      SelfSignature: z.string().optional(),
    }),
    body,
  );
  if ('answer' in parsed) return parsed.answer;
  const { UserID, Nick, FaceUrl, SelfSignature } = parsed.data;
  if (!isRobotId(UserID)) {
    return fail(10004, `UserID must start with ${ROBOT_PREFIX} and be at most ${ROBOT_ID_MAX_BYTES} bytes`);
  }
  for (const value of [Nick, FaceUrl, SelfSignature]) {
    if (value !== undefined && utf8Bytes(value) > PROFILE_FIELD_MAX_BYTES) {
      return fail(40601, `profile field longer than ${PROFILE_FIELD_MAX_BYTES} bytes`);
    }
  }
  if (!ctx.state.validRobot(UserID) && ctx.state.validRobotCount() >= ROBOTS_PER_APP) {
    return fail(10008, `the app already has ${ROBOTS_PER_APP} robots`);
  }
  ctx.state.putRobot(UserID);
  const profile: Profile = {};
  if (Nick !== undefined) profile.nick = Nick;
  if (FaceUrl !== undefined) profile.faceUrl = FaceUrl;
  if (SelfSignature !== undefined) profile.selfSignature = SelfSignature;
  if (Object.keys(profile).length > 0) ctx.state.setProfile(UserID, profile);
  return ok();
};

const getAllRobots: Handler = (_, ctx) =>
  ok({ Robot_Account: [...ctx.state.robots.values()].filter((r) => r.valid).map((r) => r.userId) });

const deleteRobot: Handler = (body, ctx) => {
  const parsed = parse(z.looseObject({ Robot_Account: z.string() }), body);
  if ('answer' in parsed) return parsed.answer;
  const id = parsed.data.Robot_Account;
  if (!ctx.state.robots.has(id)) return fail(10004, `${id} is not a robot of this app`);
  ctx.state.invalidateRobot(id);
  return ok();
};

const sendStreamMsg: Handler = (body, ctx) => {
  const parsed = parse(
    z.looseObject({
      From_Account: z.string(),
      To_Account: z.string().min(1),
      Chunk: z.string().min(1),
      MsgKey: z.string().optional(),
      Finish: z.number().int().optional(),
    }),
    body,
  );
  if ('answer' in parsed) return parsed.answer;
  const { From_Account: from, To_Account: to, Chunk: chunk, MsgKey: msgKey, Finish } = parsed.data;
  if (!ctx.state.validRobot(from)) return fail(10004, `From_Account ${from} is not a valid robot`);
  const now = ctx.now();
  if (msgKey === undefined || msgKey === '') {
    if (utf8Bytes(chunk) > MESSAGE_MAX_BYTES) return fail(MSG_TOO_LONG, 'msg too long');
    const message = ctx.state.add({
      msgKey: ctx.state.newMsgKey(),
      from,
      to,
      kind: 'stream',
      text: chunk,
      state: Finish ? 'finished' : 'streaming',
      time: now,
      updatedAt: now,
      calls: 1,
    });
    return ok({ MsgKey: message.msgKey });
  }
  const message = ctx.state.byKey(msgKey);
  if (message?.kind !== 'stream' || message.streamMsgId !== undefined || message.chatbot) {
    return fail(10004, `MsgKey ${msgKey} is unknown`);
  }
  if (message.from !== from || message.to !== to)
    return fail(10004, `MsgKey ${msgKey} belongs to another chat`);
  ctx.state.settleIdle(message, ctx.streamIdleMs, ctx.now());
  if (message.state !== 'streaming') return fail(10004, `the stream of MsgKey ${msgKey} has ended`);
  if (utf8Bytes(message.text) + utf8Bytes(chunk) > MESSAGE_MAX_BYTES)
    return fail(MSG_TOO_LONG, 'msg too long');
  message.text += chunk;
  message.calls++;
  message.updatedAt = now;
  if (Finish) message.state = 'finished';
  ctx.state.touch(message);
  return ok({ MsgKey: msgKey });
};

/** TUIKit's typing element's `Data`, as its clients check it. */
const typingData = z
  .object({
    businessID: z.literal(TYPING_BUSINESS_ID),
    typingStatus: z.union([z.literal(0), z.literal(1)]),
    version: z.number().int().min(1),
    userAction: z.union([z.literal(0), z.literal(14)]),
    actionParam: z.enum(['EIMAMSG_InputStatus_Ing', 'EIMAMSG_InputStatus_End']),
    statusText: z.string().optional(),
  })
  .refine(
    (d) => (d.typingStatus === 1) === (d.userAction === 14 && d.actionParam === 'EIMAMSG_InputStatus_Ing'),
    'typingStatus, userAction and actionParam must agree',
  );

/** TUIKit shows a typing signal for this long after it arrives. */
export const TYPING_SHOWN_MS = 5000;

/** The typing element's `Data` if `msgBody` is one typing element, or `undefined`. */
function typingOf(msgBody: z.infer<typeof element>[]): unknown {
  const [only, ...rest] = msgBody;
  if (rest.length > 0 || only?.MsgType !== 'TIMCustomElem') return undefined;
  const data = (only.MsgContent as { Data?: unknown }).Data;
  if (typeof data !== 'string' || !data.includes(TYPING_BUSINESS_ID)) return undefined;
  try {
    return JSON.parse(data);
  } catch {
    return undefined;
  }
}

/**
 * An online-only message (`MsgLifeTime` 0): delivered to the clients online now and stored nowhere,
 * so no conversation keeps it. TUIKit's typing element shows "typing…" in the receiving client.
 */
function sendOnline(from: string, to: string, msgBody: z.infer<typeof element>[], ctx: ApiContext): Answer {
  const typing = typingOf(msgBody);
  if (typing !== undefined) {
    const check = typingData.safeParse(typing);
    if (!check.success) {
      const issue = check.error.issues[0];
      return fail(
        10004,
        `invalid parameter MsgBody.0.MsgContent.Data.${issue?.path.join('.')}: ${issue?.message}`,
      );
    }
    const d = check.data;
    ctx.state.setTyping(from, to, d.typingStatus === 1, TYPING_SHOWN_MS, d.statusText);
  }
  const now = ctx.now();
  return ok({ MsgTime: Math.floor(now / 1000), MsgKey: ctx.state.newMsgKey() });
}

const sendMsg: Handler = (body, ctx) => {
  const parsed = parse(
    z.looseObject({
      From_Account: z.string().min(1).optional(),
      To_Account: z.string().min(1),
      MsgSeq: uint32.optional(),
      MsgRandom: uint32,
      MsgBody: z.array(element).min(1),
      MsgLifeTime: z.number().int().min(0).max(604_800).optional(),
      SendMsgControl: z.array(z.enum(['NoUnread', 'NoLastMsg', 'WithMuteNotifications'])).optional(),
      CloudCustomData: z.string().optional(),
    }),
    body,
  );
  if ('answer' in parsed) return parsed.answer;
  const data = parsed.data;
  const from = data.From_Account ?? ctx.admin;
  if (data.MsgLifeTime === 0) return sendOnline(from, data.To_Account, data.MsgBody, ctx);
  const seq = data.MsgSeq ?? 0;
  const rendered = render(data.MsgBody);
  if ('ErrorCode' in rendered) return rendered;
  if (rendered.bytes > MESSAGE_MAX_BYTES) return fail(MSG_TOO_LONG, 'msg too long');
  const now = ctx.now();
  for (const [key, seen] of ctx.dedup) if (now - seen.at >= DEDUP_MS) ctx.dedup.delete(key);
  const dedupKey = `${from}\u0000${data.To_Account}\u0000${seq}\u0000${data.MsgRandom}\u0000${crc32(JSON.stringify(data.MsgBody))}`;
  const seen = ctx.dedup.get(dedupKey);
  if (seen) return ok({ MsgTime: seen.msgTime, MsgKey: seen.msgKey });
  const message = ctx.state.add({
    msgKey: ctx.state.newMsgKey(data.MsgRandom),
    from,
    to: data.To_Account,
    kind: rendered.kind,
    text: rendered.text,
    ...(rendered.content ? { content: rendered.content } : {}),
    ...quoteOf(data.CloudCustomData),
    ...(rendered.chatbot ? { chatbot: rendered.chatbot } : {}),
    state: rendered.state ?? 'finished',
    time: now,
    updatedAt: now,
    calls: 1,
  });
  const msgTime = Math.floor(now / 1000);
  ctx.dedup.set(dedupKey, { msgKey: message.msgKey, msgTime, at: now });
  if (ctx.state.validRobot(data.To_Account)) {
    ctx.deliveredToRobot(message, data.MsgBody, { seq, random: data.MsgRandom });
  }
  return ok({ MsgTime: msgTime, MsgKey: message.msgKey, MsgId: message.msgKey });
};

const portraitSet: Handler = (body, ctx) => {
  const parsed = parse(
    z.looseObject({
      From_Account: z.string().min(1),
      ProfileItem: z.array(z.looseObject({ Tag: z.string(), Value: z.unknown() })).min(1),
    }),
    body,
  );
  if ('answer' in parsed) return parsed.answer;
  const profile: Profile = {};
  for (const item of parsed.data.ProfileItem) {
    if (typeof item.Value === 'string' && utf8Bytes(item.Value) > PROFILE_FIELD_MAX_BYTES) {
      return fail(40601, `${item.Tag} is longer than ${PROFILE_FIELD_MAX_BYTES} bytes`);
    }
    const field = PROFILE_TAGS[item.Tag];
    if (field && typeof item.Value === 'string') profile[field] = item.Value;
  }
  ctx.state.setProfile(parsed.data.From_Account, profile);
  return ok({ ErrorDisplay: '' });
};

const portraitGet: Handler = (body, ctx) => {
  const parsed = parse(
    z.looseObject({ To_Account: z.array(z.string()).min(1).max(100), TagList: z.array(z.string()).min(1) }),
    body,
  );
  if ('answer' in parsed) return parsed.answer;
  const { To_Account, TagList } = parsed.data;
  return ok({
    UserProfileItem: To_Account.map((id) => {
      if (!ctx.state.hasAccount(id))
        return { To_Account: id, ResultCode: 40003, ResultInfo: 'account not found' };
      const profile = ctx.state.profiles.get(id) ?? {};
      return {
        To_Account: id,
        ProfileItem: TagList.map((tag) => {
          const field = PROFILE_TAGS[tag];
          return { Tag: tag, Value: (field && profile[field]) ?? '' };
        }),
        ResultCode: 0,
        ResultInfo: '',
      };
    }),
  });
};

/**
 * The group `groupId`, if `from` may send to it: it must exist (10010) and, but for the admin and
 * live-streaming groups, which anyone in the room may write to, `from` must be a member (10007).
 */
function groupFor(ctx: ApiContext, groupId: string, from: string): Answer | undefined {
  const group = ctx.state.group(groupId);
  if (!group) return fail(10010, `group ${groupId} does not exist or was disbanded`);
  if (from !== ctx.admin && group.type !== 'AVChatRoom' && !group.members.includes(from)) {
    return fail(10007, `${from} is not a member of group ${groupId}`);
  }
  return undefined;
}

/** The accounts `GroupAtInfo` names. */
const mentionsOf = (info: z.infer<typeof groupAtInfo>) => (info ?? []).map((a) => a.GroupAt_Account);

const sendGroupMsg: Handler = (body, ctx) => {
  const parsed = parse(
    z.looseObject({
      GroupId: z.string().min(1),
      Random: uint32,
      From_Account: z.string().min(1).optional(),
      MsgBody: z.array(element).min(1),
      GroupAtInfo: groupAtInfo,
    }),
    body,
  );
  if ('answer' in parsed) return parsed.answer;
  const data = parsed.data;
  const from = data.From_Account ?? ctx.admin;
  const refused = groupFor(ctx, data.GroupId, from);
  if (refused) return refused;
  const rendered = render(data.MsgBody);
  if ('ErrorCode' in rendered) return rendered;
  if (rendered.bytes > MESSAGE_MAX_BYTES) return fail(MSG_TOO_LONG, 'msg too long');
  const now = ctx.now();
  const seq = ctx.state.nextGroupSeq(data.GroupId);
  const mentions = mentionsOf(data.GroupAtInfo);
  ctx.state.add({
    msgKey: ctx.state.newMsgKey(data.Random),
    from,
    to: data.GroupId,
    groupId: data.GroupId,
    kind: rendered.kind,
    text: rendered.text,
    ...(rendered.content ? { content: rendered.content } : {}),
    ...(mentions.length > 0 ? { mentions } : {}),
    ...quoteOf((data as { CloudCustomData?: unknown }).CloudCustomData),
    ...(rendered.chatbot ? { chatbot: rendered.chatbot } : {}),
    state: rendered.state ?? 'finished',
    time: now,
    updatedAt: now,
    calls: 1,
    seq,
  });
  return ok({ MsgSeq: seq, MsgTime: Math.floor(now / 1000) });
};

const getGroupInfo: Handler = (body, ctx) => {
  const parsed = parse(z.looseObject({ GroupIdList: z.array(z.string().min(1)).min(1).max(50) }), body);
  if ('answer' in parsed) return parsed.answer;
  return ok({
    GroupInfo: parsed.data.GroupIdList.map((id) => {
      const group = ctx.state.group(id);
      if (!group) return { GroupId: id, ErrorCode: 10010, ErrorInfo: 'group does not exist' };
      return { GroupId: id, ErrorCode: 0, ErrorInfo: '', Type: group.type, MemberNum: group.members.length };
    }),
  });
};

const addGroupMember: Handler = (body, ctx) => {
  const parsed = parse(
    z.looseObject({
      GroupId: z.string().min(1),
      Silence: z.union([z.literal(0), z.literal(1)]).optional(),
      MemberList: z
        .array(z.looseObject({ Member_Account: z.string().min(1) }))
        .min(1)
        .max(GROUP_MEMBERS_PER_CALL),
    }),
    body,
  );
  if ('answer' in parsed) return parsed.answer;
  const { GroupId, MemberList } = parsed.data;
  const group = ctx.state.group(GroupId);
  if (!group) return fail(10010, `group ${GroupId} does not exist or was disbanded`);
  if (group.type === 'AVChatRoom') {
    return fail(
      10007,
      'live-streaming groups (AVChatRoom) have no member list to add to; robots use add_robots',
    );
  }
  return ok({
    MemberList: MemberList.map(({ Member_Account: id }) => {
      // A robot must be a valid one; other accounts exist once named, as users do here.
      if (id.startsWith(ROBOT_PREFIX) && !ctx.state.validRobot(id)) return { Member_Account: id, Result: 0 };
      return { Member_Account: id, Result: ctx.state.join(GroupId, id) ? 1 : 2 };
    }),
  });
};

const deleteGroupMember: Handler = (body, ctx) => {
  const parsed = parse(
    z.looseObject({
      GroupId: z.string().min(1),
      Silence: z.union([z.literal(0), z.literal(1)]).optional(),
      MemberToDel_Account: z.array(z.string().min(1)).min(1).max(GROUP_MEMBERS_PER_CALL),
    }),
    body,
  );
  if ('answer' in parsed) return parsed.answer;
  const { GroupId, MemberToDel_Account } = parsed.data;
  const group = ctx.state.group(GroupId);
  if (!group) return fail(10010, `group ${GroupId} does not exist or was disbanded`);
  if (group.type === 'AVChatRoom')
    return fail(10007, 'live-streaming groups (AVChatRoom) have no member list');
  for (const id of MemberToDel_Account) ctx.state.leave(GroupId, id);
  return ok();
};

/** `add_robots` / `del_robots`: robots pinned to (or taken off) a live-streaming group's member list. */
function liveGroupRobots(add: boolean): Handler {
  return (body, ctx) => {
    const parsed = parse(
      z.looseObject({
        GroupId: z.string().min(1),
        Members_Account: z.array(z.string().min(1)).min(1).max(GROUP_MEMBERS_PER_CALL),
      }),
      body,
    );
    if ('answer' in parsed) return parsed.answer;
    const { GroupId, Members_Account } = parsed.data;
    const group = ctx.state.group(GroupId);
    if (!group) return fail(10010, `group ${GroupId} does not exist or was disbanded`);
    if (group.type !== 'AVChatRoom')
      return fail(10007, `group ${GroupId} is not a live-streaming group (AVChatRoom)`);
    const notRobot = Members_Account.find((id) => !ctx.state.validRobot(id));
    if (notRobot) return fail(10004, `${notRobot} is not a valid robot of this app`);
    for (const id of Members_Account) {
      if (add) ctx.state.join(GroupId, id);
      else ctx.state.leave(GroupId, id);
    }
    return ok();
  };
}

const streamChunk = z.looseObject({
  EventType: z.string().optional(),
  Index: z.number().int().min(1),
  Markdown: z.string(),
  IsLast: z.boolean().optional(),
});
const streamElement = z.looseObject({
  MsgType: z.literal('TIMStreamElem'),
  MsgContent: z.looseObject({
    StreamMsgID: z.string().optional(),
    CompatibleText: z.string().optional(),
    Chunks: z.array(streamChunk).min(1),
  }),
});

/** `stream_msg/send_c2c_stream_msg` and `send_group_stream_msg`: one protocol, two destinations. */
function streamMsg(group: boolean): Handler {
  return (body, ctx) => {
    const parsed = parse(
      z.looseObject({
        From_Account: z.string().min(1).optional(),
        To_Account: group ? z.string().optional() : z.string().min(1),
        GroupId: group ? z.string().min(1) : z.string().optional(),
        MsgRandom: uint32.optional(),
        Random: uint32.optional(),
        MsgBody: z.tuple([streamElement]),
        GroupAtInfo: groupAtInfo,
      }),
      body,
    );
    if ('answer' in parsed) return parsed.answer;
    const data = parsed.data;
    if (data.MsgRandom === undefined && data.Random === undefined) {
      return fail(10004, 'invalid parameter: MsgRandom (or Random) is required');
    }
    const content = data.MsgBody[0].MsgContent;
    const now = ctx.now();
    const from = data.From_Account ?? ctx.admin;
    const to = (group ? data.GroupId : data.To_Account) as string;
    if (group) {
      const refused = groupFor(ctx, to, from);
      if (refused) return refused;
    }
    let stream: StreamMsg | undefined;
    if (content.StreamMsgID) {
      stream = ctx.streams.get(content.StreamMsgID);
      if (!stream) return fail(10004, `StreamMsgID ${content.StreamMsgID} is unknown`);
      ctx.state.settleIdle(stream.message, ctx.streamIdleMs, ctx.now());
      if (stream.message.state !== 'streaming') return fail(10004, `stream ${content.StreamMsgID} has ended`);
      if (!stream.pace.admit(ctx.monotonic())) {
        return fail(
          TENCENT_FREQUENCY_LIMIT,
          `more than ${STREAM_MSG_CALLS_PER_SECOND} calls per second on one stream`,
        );
      }
    }
    const expected = stream?.nextIndex ?? 1;
    let added = '';
    let last = false;
    for (const [i, chunk] of content.Chunks.entries()) {
      if (chunk.Index !== expected + i) {
        return fail(10004, `chunk Index ${chunk.Index} out of order; expected ${expected + i}`);
      }
      added += chunk.Markdown;
      last ||= chunk.IsLast === true;
    }
    const before = stream ? utf8Bytes(stream.message.text) : 0;
    if (before + utf8Bytes(added) >= STREAM_MSG_MAX_BYTES) return fail(MSG_TOO_LONG, 'msg too long');
    if (!stream) {
      // The documents give GroupAtInfo for send_group_msg; the emulator takes it on a stream's first call too.
      const mentions = mentionsOf(data.GroupAtInfo);
      const message = ctx.state.add({
        msgKey: ctx.state.newMsgKey(data.MsgRandom ?? data.Random),
        from,
        to,
        ...(group ? { groupId: to, seq: ctx.state.nextGroupSeq(to) } : {}),
        ...(mentions.length > 0 ? { mentions } : {}),
        kind: 'stream',
        text: added,
        state: last ? 'finished' : 'streaming',
        time: now,
        updatedAt: now,
        calls: 1,
        streamMsgId: `stream_${ctx.state.newMsgKey()}`,
      });
      stream = { message, nextIndex: expected, pace: new SlidingWindow(STREAM_MSG_CALLS_PER_SECOND, 1000) };
      stream.pace.admit(ctx.monotonic());
      ctx.streams.set(message.streamMsgId as string, stream);
    } else {
      stream.message.text += added;
      stream.message.calls++;
      stream.message.updatedAt = now;
      if (last) stream.message.state = 'finished';
      ctx.state.touch(stream.message);
    }
    stream.nextIndex = expected + content.Chunks.length;
    const m = stream.message;
    return ok({
      StreamMsgID: m.streamMsgId,
      MsgKey: m.msgKey,
      MsgTime: Math.floor(m.time / 1000),
      ...(m.seq !== undefined ? { MsgSeq: m.seq } : {}),
    });
  };
}

/** Finds a one-to-one message by its key, checking it was sent by `from` to `to`. */
function ownMessage(ctx: ApiContext, from: string, to: string, msgKey: string): Message | Answer {
  const message = ctx.state.byKey(msgKey);
  if (!message || message.groupId !== undefined) return fail(20004, `no message with MsgKey ${msgKey}`);
  if (message.from !== from || message.to !== to)
    return fail(20004, `MsgKey ${msgKey} is not from ${from} to ${to}`);
  return message;
}

const modifyC2cMsg: Handler = (body, ctx) => {
  const parsed = parse(
    z.looseObject({
      From_Account: z.string().min(1),
      To_Account: z.string().min(1),
      MsgKey: z.string().min(1),
      MsgBody: z.array(element).min(1),
    }),
    body,
  );
  if ('answer' in parsed) return parsed.answer;
  const { From_Account, To_Account, MsgKey, MsgBody } = parsed.data;
  const found = ownMessage(ctx, From_Account, To_Account, MsgKey);
  if ('ErrorCode' in found) return found;
  return rewrite(ctx, found, MsgBody, 20004);
};

/** Rewrites a found message with `body`, unless it was recalled (`recalledCode`) or is too long. */
function rewrite(
  ctx: ApiContext,
  found: Message,
  body: z.infer<typeof element>[],
  recalledCode: number,
): Answer {
  if (found.state === 'recalled') return fail(recalledCode, `the message ${found.msgKey} was recalled`);
  const rendered = render(body);
  if ('ErrorCode' in rendered) return rendered;
  if (rendered.bytes > MESSAGE_MAX_BYTES) return fail(MSG_TOO_LONG, 'msg too long');
  // The message becomes what the new body is; its @-mentions (GroupAtInfo) stay as sent.
  found.text = rendered.text;
  found.kind = rendered.kind;
  if (rendered.content) found.content = rendered.content;
  else delete found.content;
  // A TUIKit robot message grows by rewrites: one message, streaming until its `isFinished: 1`.
  if (rendered.chatbot) {
    found.chatbot = rendered.chatbot;
    found.state = rendered.state ?? 'finished';
    found.calls++;
  } else delete found.chatbot;
  found.updatedAt = ctx.now();
  ctx.state.touch(found);
  return ok();
}

/** Marks a found message recalled. */
function recall(ctx: ApiContext, found: Message): void {
  found.state = 'recalled';
  found.updatedAt = ctx.now();
  ctx.state.touch(found);
}

const adminMsgWithdraw: Handler = (body, ctx) => {
  const parsed = parse(
    z.looseObject({
      From_Account: z.string().min(1),
      To_Account: z.string().min(1),
      MsgKey: z.string().min(1),
    }),
    body,
  );
  if ('answer' in parsed) return parsed.answer;
  const { From_Account, To_Account, MsgKey } = parsed.data;
  const found = ownMessage(ctx, From_Account, To_Account, MsgKey);
  if ('ErrorCode' in found) return found;
  recall(ctx, found);
  return ok();
};

/** Finds a group message by its `MsgSeq`. */
function groupMessage(ctx: ApiContext, groupId: string, seq: number): Message | Answer {
  const message = ctx.state.groupConversation(groupId).find((m) => m.seq === seq);
  // The documents give no code for an unknown MsgSeq: the emulator answers 10030 (message not found).
  return message ?? fail(10030, `no message with MsgSeq ${seq} in group ${groupId}`);
}

const modifyGroupMsg: Handler = (body, ctx) => {
  const parsed = parse(
    z.looseObject({
      GroupId: z.string().min(1),
      MsgSeq: z.number().int().positive(),
      MsgBody: z.array(element).min(1),
    }),
    body,
  );
  if ('answer' in parsed) return parsed.answer;
  const { GroupId, MsgSeq, MsgBody } = parsed.data;
  const found = groupMessage(ctx, GroupId, MsgSeq);
  if ('ErrorCode' in found) return found;
  return rewrite(ctx, found, MsgBody, 10030);
};

const groupMsgRecall: Handler = (body, ctx) => {
  const parsed = parse(
    z.looseObject({
      GroupId: z.string().min(1),
      MsgSeqList: z.array(z.looseObject({ MsgSeq: z.number().int().positive() })).min(1),
    }),
    body,
  );
  if ('answer' in parsed) return parsed.answer;
  const { GroupId, MsgSeqList } = parsed.data;
  const results = MsgSeqList.map(({ MsgSeq }) => {
    const found = groupMessage(ctx, GroupId, MsgSeq);
    if ('ErrorCode' in found) return { MsgSeq, RetCode: found.ErrorCode };
    recall(ctx, found);
    return { MsgSeq, RetCode: 0 };
  });
  return ok({ RecallRetList: results });
};

/** Every REST API the emulator answers, by `service/command`. */
/**
 * The message a `CloudCustomData` quotes, as TUIKit writes a reply: `{"messageReply": { messageID,
 * messageAbstract, messageSender, messageType, version }}`.
 */
function quoteOf(cloudCustomData: unknown): { quote?: NonNullable<Message['quote']> } {
  if (typeof cloudCustomData !== 'string' || !cloudCustomData.includes('messageReply')) return {};
  try {
    const reply = (JSON.parse(cloudCustomData) as { messageReply?: Record<string, unknown> }).messageReply;
    if (typeof reply?.messageID !== 'string') return {};
    const text = typeof reply.messageAbstract === 'string' ? reply.messageAbstract : '';
    const from = typeof reply.messageSender === 'string' ? { from: reply.messageSender } : {};
    return { quote: { messageId: reply.messageID, text, ...from } };
  } catch {
    return {};
  }
}

/**
 * `openim/admin_set_msg_read`: `Report_Account` has read its one-to-one chat with `Peer_Account`,
 * up to `MsgReadTime` (seconds; default now). The peer's client shows its messages read.
 */
const adminSetMsgRead: Handler = (body, ctx) => {
  const parsed = parse(
    z.looseObject({
      Report_Account: z.string().min(1),
      Peer_Account: z.string().min(1),
      MsgReadTime: uint32.optional(),
    }),
    body,
  );
  if ('answer' in parsed) return parsed.answer;
  const { Report_Account, Peer_Account, MsgReadTime } = parsed.data;
  const upTo = MsgReadTime === undefined ? ctx.now() : MsgReadTime * 1000 + 999;
  ctx.state.markRead(Report_Account, Peer_Account, upTo);
  return ok({});
};

export const tencentApis: Readonly<Record<string, Handler>> = {
  'openim/admin_set_msg_read': adminSetMsgRead,
  'openim_robot_http_svc/create_robot': createRobot,
  'openim_robot_http_svc/get_all_robots': getAllRobots,
  'openim_robot_http_svc/delete_robot': deleteRobot,
  'openim_robot_http_svc/send_stream_msg': sendStreamMsg,
  'openim/sendmsg': sendMsg,
  'openim/modify_c2c_msg': modifyC2cMsg,
  'openim/admin_msgwithdraw': adminMsgWithdraw,
  'profile/portrait_set': portraitSet,
  'profile/portrait_get': portraitGet,
  'openim/modify_group_msg': modifyGroupMsg,
  'group_open_http_svc/send_group_msg': sendGroupMsg,
  'group_open_http_svc/group_msg_recall': groupMsgRecall,
  'group_open_http_svc/get_group_info': getGroupInfo,
  'group_open_http_svc/add_group_member': addGroupMember,
  'group_open_http_svc/delete_group_member': deleteGroupMember,
  'group_open_avchatroom_http_svc/add_robots': liveGroupRobots(true),
  'group_open_avchatroom_http_svc/del_robots': liveGroupRobots(false),
  'stream_msg/send_c2c_stream_msg': streamMsg(false),
  'stream_msg/send_group_stream_msg': streamMsg(true),
};

import * as z from 'zod';
import { transportOptionsShape } from '../client/options.js';
import { secretOption } from '../secret.js';
import { boundedId, maxBytes } from '../validation.js';
import { tencentRegions } from './regions.js';

/**
 * Every payload the Tencent client sends or reads, as zod schemas: the single source of their shape.
 * Inputs use the library's camelCase names; the cloud's PascalCase names appear only in the bodies
 * built from them and in the response schemas.
 */

/** A robot's user id: `@RBT#` then up to 27 more bytes (32 UTF-8 bytes in all). */
export const ROBOT_PREFIX = '@RBT#';
export const ROBOT_ID_MAX_BYTES = 32;
/** Ordinary user ids share the 32-byte limit. */
export const USER_ID_MAX_BYTES = 32;
/** Nick, FaceUrl and SelfSignature: 500 bytes each. */
export const PROFILE_FIELD_MAX_BYTES = 500;
/** One message (sendmsg, and the accumulated robot stream): 12 KB. */
export const MESSAGE_MAX_BYTES = 12 * 1024;
/** Robots per app. */
export const ROBOTS_PER_APP = 20;
/** Users one group message may @-mention; the emulator holds apps to it. */
export const GROUP_AT_MAX = 30;
/** `add_group_member` takes at most 300 members per call. */
export const GROUP_MEMBERS_PER_CALL = 300;

export const robotId = boundedId(ROBOT_ID_MAX_BYTES).refine((id) => id.startsWith(ROBOT_PREFIX), {
  message: `must start with ${ROBOT_PREFIX}`,
});
export const userId = boundedId(USER_ID_MAX_BYTES);
const profileField = maxBytes(PROFILE_FIELD_MAX_BYTES);

export const profileInput = z.object({
  nick: profileField.optional(),
  faceUrl: profileField.optional(),
  selfSignature: profileField.optional(),
});
export type TencentProfileInput = z.infer<typeof profileInput>;

export const createRobotInput = profileInput.extend({ userId: robotId });
export type CreateRobotInput = z.infer<typeof createRobotInput>;

export const sendStreamMsgInput = z.object({
  from: robotId,
  to: userId,
  chunk: maxBytes(MESSAGE_MAX_BYTES).refine((chunk) => chunk.length > 0, {
    message: 'must not be empty: every call carries a chunk, the final one included',
  }),
  msgKey: z.string().min(1).optional(),
  finish: z.boolean().optional(),
});
export type SendStreamMsgInput = z.infer<typeof sendStreamMsgInput>;

/** One element of a message body (`TIMTextElem`, `TIMCustomElem`, …), passed through as given. */
export const msgBodyElement = z.looseObject({
  MsgType: z.string().min(1),
  MsgContent: z.record(z.string(), z.unknown()),
});
export type MsgBodyElement = z.infer<typeof msgBodyElement>;

const sendMsgCommon = {
  from: userId.optional(),
  to: userId,
  /** 1: also show on the sender's other devices (default); 2: do not. */
  syncOtherMachine: z.union([z.literal(1), z.literal(2)]).optional(),
  cloudCustomData: z.string().optional(),
  /** Seconds the cloud keeps the message for offline delivery; 0: online only (not stored, not pushed). */
  msgLifeTime: z.number().int().min(0).max(604_800).optional(),
  /** `NoUnread`: not counted unread; `NoLastMsg`: not the conversation's last message. */
  sendMsgControl: z.array(z.enum(['NoUnread', 'NoLastMsg', 'WithMuteNotifications'])).optional(),
};

export const sendMsgInput = z.union([
  z.object({ ...sendMsgCommon, text: maxBytes(MESSAGE_MAX_BYTES).min(1, 'must not be empty') }),
  z.object({ ...sendMsgCommon, msgBody: z.array(msgBodyElement).min(1) }),
]);
export type SendMsgInput = z.infer<typeof sendMsgInput>;

export const setMsgReadInput = z.object({
  reader: userId,
  peer: userId,
  /** Seconds since the epoch: read up to then. Default now. */
  time: z.number().int().positive().optional(),
});

export const sendTypingInput = z.object({
  from: userId,
  to: userId,
  /** false: the bot has stopped typing. Default true. */
  typing: z.boolean().optional(),
  /** What runs, for clients that show it. */
  statusText: z.string().max(100).optional(),
});
export type SendTypingInput = z.input<typeof sendTypingInput>;

/** Group ids are at most 48 bytes. */
export const groupId = boundedId(48);
/** Users a group message @-mentions (`GroupAtInfo`). */
const mention = z.array(userId).max(GROUP_AT_MAX).readonly().optional();

export const sendGroupMsgInput = z.union([
  z.object({
    from: userId.optional(),
    groupId,
    text: maxBytes(MESSAGE_MAX_BYTES).min(1, 'must not be empty'),
    mention,
    cloudCustomData: z.string().optional(),
  }),
  z.object({ from: userId.optional(), groupId, msgBody: z.array(msgBodyElement).min(1), mention }),
]);
export type SendGroupMsgInput = z.infer<typeof sendGroupMsgInput>;

/** How a Tencent answer streams: the stream APIs, or TUIKit's AI-robot custom message. */
export const streamFormat = z.enum(['stream', 'tuikit']);

export const openStreamInput = z.union([
  z.object({
    from: userId,
    to: userId,
    api: z.enum(['robot', 'stream_msg']).optional(),
    format: streamFormat.optional(),
  }),
  z.object({ from: userId.optional(), groupId, mention, format: streamFormat.optional() }),
]);

export const groupMembersInput = z.object({
  groupId,
  userIds: z.array(userId).min(1).max(GROUP_MEMBERS_PER_CALL),
});

export const getProfilesInput = z.array(userId).min(1);

export const clientOptions = z
  .object({
    sdkAppId: z.number().int().positive(),
    admin: userId,
    secretKey: secretOption.optional(),
    userSig: z
      .custom<() => string | Promise<string>>((v) => typeof v === 'function', 'must be a function')
      .optional(),
    region: z.enum(Object.keys(tencentRegions) as [keyof typeof tencentRegions]).optional(),
    baseUrl: z.url({ protocol: /^https?$/ }).optional(),
    backupBaseUrl: z.url({ protocol: /^https?$/ }).optional(),
    userSigTtlSeconds: z.number().int().min(60).optional(),
    callbackToken: z
      .union([
        z.string().min(1, 'must not be empty: leave it out when no token is set'),
        z.custom<() => string | Promise<string>>(
          (v) => typeof v === 'function',
          'must be a string or a function',
        ),
      ])
      .optional(),
    buttons: z.enum(['signed', 'raw']).optional(),
    streamFormat: streamFormat.optional(),
    ...transportOptionsShape,
  })
  .refine((o) => (o.secretKey === undefined) !== (o.userSig === undefined), {
    message: 'give either secretKey or userSig, not both and not neither',
    path: ['secretKey'],
  })
  .refine((o) => (o.region === undefined) !== (o.baseUrl === undefined), {
    message: 'give either region or baseUrl, not both and not neither',
    path: ['region'],
  })
  .refine((o) => o.backupBaseUrl === undefined || o.baseUrl !== undefined, {
    message: "goes with baseUrl: a region's backup domain is known",
    path: ['backupBaseUrl'],
  });

/** The envelope of every answer. New fields may appear at any time, so unknown ones are kept. */
export const envelope = z.looseObject({
  ActionStatus: z.string(),
  ErrorCode: z.number().int(),
  ErrorInfo: z.string().optional().default(''),
  RequestId: z.string().optional(),
});

export const getAllRobotsAnswer = envelope.extend({
  Robot_Account: z.array(z.string()).optional().default([]),
});
export const sendStreamMsgAnswer = envelope.extend({ MsgKey: z.string().min(1) });
export const groupInfoAnswer = envelope.extend({
  GroupInfo: z.array(
    z.looseObject({
      GroupId: z.string(),
      ErrorCode: z.number().int(),
      Type: z.string().optional(),
      ErrorInfo: z.string().optional(),
    }),
  ),
});
export const addGroupMemberAnswer = envelope.extend({
  MemberList: z.array(z.looseObject({ Member_Account: z.string(), Result: z.number().int() })).default([]),
});
export const sendGroupMsgAnswer = envelope.extend({ MsgSeq: z.number().int(), MsgTime: z.number().int() });
export const sendMsgAnswer = envelope.extend({ MsgTime: z.number().int(), MsgKey: z.string().min(1) });

const profileItem = z.looseObject({ Tag: z.string(), Value: z.unknown() });
export const portraitGetAnswer = envelope.extend({
  UserProfileItem: z
    .array(
      z.looseObject({
        To_Account: z.string(),
        ProfileItem: z.array(profileItem).optional().default([]),
        ResultCode: z.number().int().optional().default(0),
        ResultInfo: z.string().optional().default(''),
      }),
    )
    .optional()
    .default([]),
});

/** `openim/admin_getroammsg`: a page of one-to-one history, newest first. */
export const roamMsgAnswer = envelope.extend({
  Complete: z.number().int(),
  LastMsgKey: z.string().optional(),
  LastMsgTime: z.number().int().optional(),
  MsgList: z
    .array(
      z.looseObject({
        From_Account: z.string(),
        To_Account: z.string(),
        MsgSeq: z.number().int(),
        MsgRandom: z.number().int(),
        MsgTimeStamp: z.number().int(),
        MsgFlagBits: z.number().int().optional(),
        MsgKey: z.string(),
        MsgBody: z.array(msgBodyElement),
      }),
    )
    .optional()
    .default([]),
});

/** `group_open_http_svc/group_msg_get_simple`: a group's latest messages, newest first. */
export const groupHistoryAnswer = envelope.extend({
  IsFinished: z.number().int(),
  RspMsgList: z
    .array(
      z.looseObject({
        From_Account: z.string().optional().default(''),
        IsPlaceMsg: z.number().int().optional(),
        MsgRandom: z.number().int(),
        MsgSeq: z.number().int(),
        MsgTimeStamp: z.number().int(),
        MsgFlagBits: z.number().int().optional(),
        MsgBody: z.array(msgBodyElement).optional().default([]),
      }),
    )
    .optional()
    .default([]),
});

export const roamMessagesInput = z.strictObject({
  /** Whose view of the conversation (the query is made as this account). */
  operator: userId,
  /** The other account of the conversation. */
  peer: userId,
  /** Seconds since the epoch: the oldest and newest time asked for, both included. */
  minTime: z.number().int().min(0),
  maxTime: z.number().int().min(0),
  /** Most messages in the page, 1–100. Default 100. */
  maxCount: z.number().int().min(1).max(100).optional(),
  /** Continues after this message: the `lastMsgKey` of the previous page. */
  lastMsgKey: z.string().min(1).optional(),
});
export type RoamMessagesInput = z.input<typeof roamMessagesInput>;

export const groupMessagesInput = z.strictObject({
  groupId,
  /** Most messages, 1–20 (the cloud's limit per call). Default 20. */
  count: z.number().int().min(1).max(20).optional(),
  /** Only messages whose `MsgSeq` is at most this: where the previous page ended, minus one. */
  upToSeq: z.number().int().min(1).optional(),
});
export type GroupMessagesInput = z.input<typeof groupMessagesInput>;

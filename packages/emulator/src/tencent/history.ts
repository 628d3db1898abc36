import * as z from 'zod';
import type { Message } from '../chat-state.js';
import { type Answer, fail, type Handler, ok, parse, uint32 } from './apis.js';
import { robotMsgBody, userMsgBody } from './elements.js';
import { ROBOT_PREFIX } from './rules.js';

/** `admin_getroammsg` answers at most this many bytes of messages per page (Tencent: 13 KB). */
export const ROAM_PAGE_BYTES = 13 * 1024;
/** `group_msg_get_simple` returns at most 20 messages per call. */
export const GROUP_HISTORY_MAX = 20;

/** The `MsgSeq` and `MsgRandom` a MsgKey (`seq_random_time`) carries. */
function keyParts(msgKey: string): { seq: number; random: number } {
  const [seq, random] = msgKey.split('_');
  return { seq: Number(seq) || 0, random: Number(random) || 0 };
}

/**
 * A message's `MsgBody` as history returns it: text as `TIMTextElem`, a `stream_msg` message as one
 * `TIMStreamElem` holding everything streamed so far, anything else as a custom element. (How the
 * cloud stores a robot's `send_stream_msg` message is not documented: the emulator keeps it as text.)
 */
function msgBodyOf(message: Message): unknown[] {
  if (message.streamMsgId !== undefined) {
    const content = {
      StreamMsgID: message.streamMsgId,
      Chunks: [
        { EventType: 'data', Index: 1, Markdown: message.text, IsLast: message.state !== 'streaming' },
      ],
    };
    return [{ MsgType: 'TIMStreamElem', MsgContent: content }];
  }
  if (message.chatbot) {
    return [{ MsgType: 'TIMCustomElem', MsgContent: { Data: JSON.stringify(message.chatbot) } }];
  }
  const content = message.content;
  if (content?.type === 'image' || content?.type === 'file') {
    // A user's picture or file goes back as the client sent it; a robot's as `sendmsg` got it.
    return message.from.startsWith(ROBOT_PREFIX) ? robotMsgBody(content) : userMsgBody(message.text, content);
  }
  if (message.kind === 'custom') {
    const data = JSON.stringify(message.content ?? {});
    return [{ MsgType: 'TIMCustomElem', MsgContent: { Data: data, Desc: message.text } }];
  }
  return [{ MsgType: 'TIMTextElem', MsgContent: { Text: message.text } }];
}

/** Bit 0 of `MsgFlagBits` marks a recalled message. */
const flagBits = (message: Message) => (message.state === 'recalled' ? 1 : 0);

/**
 * `openim/admin_getroammsg`: a one-to-one conversation's messages between `MinTime` and `MaxTime`
 * (seconds, both included), newest first, `MaxCnt` at most and 13 KB of messages per page. A page
 * that did not hold them all answers `Complete: 0`; the next asks with `MaxTime: LastMsgTime` and
 * `LastMsgKey`, and goes on after that message. Recalled messages are listed, with `MsgFlagBits`.
 */
const adminGetRoamMsg: Handler = (body, ctx) => {
  const parsed = parse(
    z.looseObject({
      Operator_Account: z.string().min(1),
      Peer_Account: z.string().min(1),
      MaxCnt: z.number().int().min(1).max(100),
      MinTime: uint32,
      MaxTime: uint32,
      LastMsgKey: z.string().optional(),
    }),
    body,
  );
  if ('answer' in parsed) return parsed.answer;
  const {
    Operator_Account: operator,
    Peer_Account: peer,
    MaxCnt,
    MinTime,
    MaxTime,
    LastMsgKey,
  } = parsed.data;
  if (MinTime > MaxTime) return fail(10004, 'invalid parameter: MinTime is after MaxTime');
  if (!ctx.state.hasAccount(operator)) return fail(70107, `account ${operator} does not exist`);
  const inRange = ctx.state
    .conversation(operator, peer)
    .filter((m) => {
      const seconds = Math.floor(m.time / 1000);
      return seconds >= MinTime && seconds <= MaxTime;
    })
    .reverse();
  let start = 0;
  if (LastMsgKey) {
    const at = inRange.findIndex((m) => m.msgKey === LastMsgKey);
    if (at >= 0) start = at + 1;
  }
  const page: Record<string, unknown>[] = [];
  let bytes = 0;
  let next = start;
  for (; next < inRange.length && page.length < MaxCnt; next++) {
    const m = inRange[next] as Message;
    const { seq, random } = keyParts(m.msgKey);
    const entry = {
      From_Account: m.from,
      To_Account: m.to,
      MsgSeq: seq,
      MsgRandom: random,
      MsgTimeStamp: Math.floor(m.time / 1000),
      MsgFlagBits: flagBits(m),
      IsPeerRead: 0,
      MsgKey: m.msgKey,
      MsgBody: msgBodyOf(m),
      CloudCustomData: '',
    };
    const size = Buffer.byteLength(JSON.stringify(entry));
    if (page.length > 0 && bytes + size > ROAM_PAGE_BYTES) break;
    bytes += size;
    page.push(entry);
  }
  const last = page.at(-1);
  const answer: Answer = ok({ Complete: next >= inRange.length ? 1 : 0, MsgCnt: page.length, MsgList: page });
  if (last) {
    answer.LastMsgTime = last.MsgTimeStamp;
    answer.LastMsgKey = last.MsgKey;
  }
  return answer;
};

/**
 * `group_open_http_svc/group_msg_get_simple`: a group's latest `ReqMsgNumber` messages (at most 20)
 * whose `MsgSeq` is at most `ReqMsgSeq`, newest first. Recalled messages only with
 * `WithRecalledMsg: 1`. Live-streaming groups (AVChatRoom) keep no history.
 */
const groupMsgGetSimple: Handler = (body, ctx) => {
  const parsed = parse(
    z.looseObject({
      GroupId: z.string().min(1),
      ReqMsgNumber: z.number().int().min(1).max(GROUP_HISTORY_MAX),
      ReqMsgSeq: z.number().int().min(1).optional(),
      WithRecalledMsg: z.union([z.literal(0), z.literal(1)]).optional(),
    }),
    body,
  );
  if ('answer' in parsed) return parsed.answer;
  const { GroupId, ReqMsgNumber, ReqMsgSeq, WithRecalledMsg } = parsed.data;
  const group = ctx.state.group(GroupId);
  if (!group) return fail(10010, `group ${GroupId} does not exist or was disbanded`);
  if (group.type === 'AVChatRoom') return fail(10007, 'live-streaming groups (AVChatRoom) keep no history');
  const upTo = ReqMsgSeq ?? Number.POSITIVE_INFINITY;
  const older = ctx.state
    .groupConversation(GroupId)
    .filter((m) => m.seq !== undefined && m.seq <= upTo && (WithRecalledMsg === 1 || m.state !== 'recalled'))
    .reverse();
  const page = older.slice(0, ReqMsgNumber);
  return ok({
    GroupId,
    IsFinished: page.length === older.length ? 1 : 0,
    RspMsgList: page.map((m) => ({
      From_Account: m.from,
      IsPlaceMsg: 0,
      MsgBody: msgBodyOf(m),
      MsgPriority: 1,
      MsgRandom: keyParts(m.msgKey).random,
      MsgSeq: m.seq,
      MsgTimeStamp: Math.floor(m.time / 1000),
      MsgFlagBits: flagBits(m),
    })),
  });
};

/** The history read-back APIs, by `service/command`. */
export const historyApis: Readonly<Record<string, Handler>> = {
  'openim/admin_getroammsg': adminGetRoamMsg,
  'group_open_http_svc/group_msg_get_simple': groupMsgGetSimple,
};

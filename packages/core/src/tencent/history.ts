import { CLOCK_SLACK_SECONDS } from '../stream/transport.js';
import type { MsgBodyElement } from './schemas.js';

/** A message as the cloud's history returns it. */
export interface HistoryMessage {
  from: string;
  /** The receiving account; for a group message, the group id. */
  to: string;
  /** A one-to-one message's key (`seq_random_time`); group messages are known by `msgSeq`. */
  msgKey?: string;
  msgSeq: number;
  /** The `MsgRandom` its sender chose. */
  msgRandom: number;
  /** Seconds since the epoch. */
  msgTime: number;
  recalled: boolean;
  msgBody: MsgBodyElement[];
}

/** One page of history, newest first. */
export interface HistoryPage {
  /** Nothing older is left in the range asked for. */
  complete: boolean;
  messages: HistoryMessage[];
  /** Where a one-to-one page ended: pass as `lastMsgKey` and `maxTime` for the next. */
  lastMsgKey?: string;
  lastMsgTime?: number;
}

/** What a stream transport reads back when the answer to the call that opened its message is lost. */
export interface TencentHistory {
  getRoamMessages(input: {
    operator: string;
    peer: string;
    minTime: number;
    maxTime: number;
    lastMsgKey?: string;
  }): Promise<HistoryPage>;
  getGroupMessages(input: { groupId: string; upToSeq?: number }): Promise<HistoryPage>;
}

/** Pages of history read back before giving up on finding a message. */
const READ_BACK_PAGES = 5;

/**
 * Reads history back from `since` (seconds) until now, newest first, and returns the messages
 * `matches` accepts (at most five pages are read). A caller that needs one message treats more than
 * one as unknown: adopting the wrong message would be worse than leaving it.
 */
export async function findInHistory(
  history: TencentHistory,
  where: { operator: string; peer: string } | { groupId: string },
  since: number,
  matches: (message: HistoryMessage) => boolean,
): Promise<HistoryMessage[]> {
  const minTime = Math.max(0, since - CLOCK_SLACK_SECONDS);
  const maxTime = Math.ceil(Date.now() / 1000) + CLOCK_SLACK_SECONDS;
  const found: HistoryMessage[] = [];
  let cursor: { lastMsgKey?: string; lastMsgTime?: number; upToSeq?: number } = {};
  for (let page = 0; page < READ_BACK_PAGES; page++) {
    const answer =
      'groupId' in where
        ? await history.getGroupMessages({
            groupId: where.groupId,
            ...(cursor.upToSeq ? { upToSeq: cursor.upToSeq } : {}),
          })
        : await history.getRoamMessages({
            ...where,
            minTime,
            maxTime: cursor.lastMsgTime ?? maxTime,
            ...(cursor.lastMsgKey ? { lastMsgKey: cursor.lastMsgKey } : {}),
          });
    found.push(...answer.messages.filter((m) => m.msgTime >= minTime && matches(m)));
    const oldest = answer.messages.at(-1);
    if (answer.complete || !oldest || oldest.msgTime < minTime) break;
    cursor = { lastMsgKey: answer.lastMsgKey, lastMsgTime: answer.lastMsgTime, upToSeq: oldest.msgSeq - 1 };
    if ('groupId' in where && oldest.msgSeq <= 1) break;
  }
  return found;
}

/** The text of a message body's first text element, or of its stream element's chunks. */
export function textOf(msgBody: readonly MsgBodyElement[]): string | undefined {
  for (const element of msgBody) {
    if (element.MsgType === 'TIMTextElem') return String(element.MsgContent.Text ?? '');
  }
  return undefined;
}

/** The text of a message body's stream element: its chunks' `Markdown`, in order. */
export function streamTextOf(msgBody: readonly MsgBodyElement[]): string {
  const element = msgBody.find((e) => e.MsgType === 'TIMStreamElem');
  const chunks = (element?.MsgContent.Chunks ?? []) as { Index?: number; Markdown?: string }[];
  return [...chunks]
    .sort((a, b) => (a.Index ?? 0) - (b.Index ?? 0))
    .map((chunk) => chunk.Markdown ?? '')
    .join('');
}

/** The `StreamMsgID` of a message body's stream element, if it has one. */
export function streamMsgIdOf(msgBody: readonly MsgBodyElement[]): string | undefined {
  for (const element of msgBody) {
    if (element.MsgType === 'TIMStreamElem' && typeof element.MsgContent.StreamMsgID === 'string') {
      return element.MsgContent.StreamMsgID;
    }
  }
  return undefined;
}

import type { TurnPermit } from '../limits/turn-permit.js';
import { mentionPrefix } from '../message/rich.js';
import {
  type EndReason,
  judgeReadBack,
  type MessageState,
  type ReadBack,
  STREAM_IDLE_LIMIT_MS,
  type StreamCall,
  type StreamTransport,
} from '../stream/transport.js';
import { utf8Bytes } from '../validation.js';
import { findInHistory, type HistoryMessage, type TencentHistory } from './history.js';
import { randomUint32 } from './protocol.js';
import { envelope, MESSAGE_MAX_BYTES, sendGroupMsgAnswer, sendMsgAnswer } from './schemas.js';
import {
  chatbotDataOf,
  chatbotElement,
  chatbotTextOf,
  DEFAULT_ERROR_INFO,
  errorData,
  streamData,
  TUIKIT_SRC,
} from './tuikit.js';

/**
 * The text of one TUIKit message. The cloud counts 12 KB of message body, and TUIKit's text travels
 * JSON-encoded twice (inside `Data`, inside the request), so a quote costs four bytes and a newline
 * three: 4 KB of the 12 are kept for that and for the frame. Text dense in quotes and backslashes
 * beyond that is refused by the cloud, and the session falls back to plain messages.
 */
export const TUIKIT_MESSAGE_MAX_BYTES = MESSAGE_MAX_BYTES - 4 * 1024;

/** Where a TUIKit stream goes: a user (as robot `from`) or a group. */
export type TuikitTarget =
  | { from: string; to: string }
  | { from?: string | undefined; groupId: string; mention?: readonly string[] | undefined };

/**
 * Streaming in TUIKit's AI-robot format: each message is one custom message
 * `{chatbotPlugin: 2, src: 2, chunks, isFinished}` that grows. The first call opens it
 * (`openim/sendmsg`, in a group `group_open_http_svc/send_group_msg`); each later call rewrites it
 * whole (`openim/modify_c2c_msg` by `MsgKey`, `openim/modify_group_msg` by `MsgSeq`), the last with
 * `isFinished: 1` — TUIKit shows the Stop button until then (notes/tuikit-protocol.md §2.3, §3.2).
 * The text so far travels as the one element of `chunks`: clients show `chunks.join('')`, so this
 * renders as deltas do, and a rewrite is the same whatever was applied before it (a retry is
 * harmless). An answer that failed or was interrupted ends as `src: 23`, whose `errorInfo` (what
 * was written, or a notice when nothing was) TUIKit shows as an error, finished (§6). No stream API is
 * used: every TUIKit that renders custom messages shows it.
 */
export class TuikitStreamTransport implements StreamTransport {
  /**
   * Rewrites are most of the calls: the lane is theirs, and the opening call, in the same turn,
   * spends the same kind of permit (the request layer charges each call to its own API's rows).
   */
  readonly rateKey: string;
  readonly maxMessageBytes: number;
  readonly maxPlainBytes: number;
  readonly minCallIntervalMs = 0;
  readonly emptyFinalChunk = true;
  readonly idleLimitMs = STREAM_IDLE_LIMIT_MS;
  /** `MsgKey` one-to-one, `MsgSeq` in a group: what rewrites name. */
  #messageId: string | undefined;
  /** The text of the current message the cloud confirmed. */
  #text = '';
  /** The message's `MsgRandom` (`Random` in a group): a read-back finds a lost opening call's message by it. */
  #random = randomUint32();
  /** When the current message was opened (seconds): history is read back from then. */
  #openedAt = 0;
  /** The chunk of the call in flight, or of the last one whose outcome is unknown. */
  #attempt: string | undefined;
  /** Taken over from another process: the text it holds must be read before it is rewritten. */
  #textUnknown = false;
  /** Taken over, and found closed already: nothing more is sent to it. */
  #closed = false;
  /** `@id ` for each mentioned user, in front of each group message's text. */
  readonly #prefix: string;

  constructor(
    private readonly call: StreamCall,
    private readonly plain: (text: string) => Promise<unknown>,
    private readonly target: TuikitTarget,
    private readonly history?: TencentHistory & { readonly admin: string },
  ) {
    const group = 'groupId' in target;
    this.rateKey = group ? 'openim/modify_group_msg' : 'openim/modify_c2c_msg';
    this.#prefix = group ? mentionPrefix(target.mention ?? []) : '';
    const prefixBytes = utf8Bytes(this.#prefix);
    this.maxMessageBytes = TUIKIT_MESSAGE_MAX_BYTES - prefixBytes;
    this.maxPlainBytes = MESSAGE_MAX_BYTES - prefixBytes;
  }

  get #from(): string {
    return this.target.from ?? this.history?.admin ?? '';
  }

  async send(
    chunk: string,
    final: boolean,
    end?: EndReason,
    permit?: TurnPermit,
  ): Promise<{ messageId: string }> {
    if (this.#messageId === undefined) {
      this.#openedAt = Math.floor(Date.now() / 1000);
      this.#text = this.#prefix;
    } else {
      if (this.#textUnknown) await this.#learnText();
      // Taken over, the message may be closed already (through the journal's other record of it,
      // or by the process itself just before it died). A rewrite would be applied again where the
      // stream APIs refuse a second close, so a closed message is left as it is.
      if (this.#closed) return { messageId: this.#messageId };
    }
    this.#attempt = chunk;
    const text = this.#text + chunk;
    // A failure or an interruption ends in TUIKit's error state, never in an open bubble.
    const failed = end === 'error' || end === 'interrupted';
    const data = failed
      ? errorData(text.trim() === '' ? DEFAULT_ERROR_INFO : text)
      : streamData([text], final);
    const messageId = await this.#write(data, permit);
    this.#messageId = messageId;
    this.#text = text;
    this.#attempt = undefined;
    return { messageId };
  }

  /** Opens the message with `data`, or rewrites it; resolves with its id. */
  async #write(data: string, permit: TurnPermit | undefined): Promise<string> {
    const t = this.target;
    const msgBody = [chatbotElement(data)];
    const id = this.#messageId;
    if ('groupId' in t) {
      if (id !== undefined) {
        const body = { GroupId: t.groupId, MsgSeq: Number(id), MsgBody: msgBody };
        await this.call('openim/modify_group_msg', body, envelope, permit);
        return id;
      }
      const mention = t.mention ?? [];
      const body = {
        GroupId: t.groupId,
        Random: this.#random,
        From_Account: t.from,
        MsgBody: msgBody,
        ...(mention.length > 0 ? { GroupAtInfo: mention.map((a) => ({ GroupAt_Account: a })) } : {}),
      };
      const answer = await this.call('group_open_http_svc/send_group_msg', body, sendGroupMsgAnswer, permit);
      return String(answer.MsgSeq);
    }
    if (id !== undefined) {
      const body = { From_Account: t.from, To_Account: t.to, MsgKey: id, MsgBody: msgBody };
      await this.call('openim/modify_c2c_msg', body, envelope, permit);
      return id;
    }
    const body = {
      SyncOtherMachine: 1,
      From_Account: t.from,
      To_Account: t.to,
      // Drawn once per message, so that the cloud's de-duplication and a read-back recognise it.
      MsgSeq: this.#random,
      MsgRandom: this.#random,
      MsgBody: msgBody,
    };
    const answer = await this.call('openim/sendmsg', body, sendMsgAnswer, permit);
    return answer.MsgKey;
  }

  /** Finds the current message in the conversation's history, by id, or (opened) by `MsgRandom`. */
  async #find(): Promise<HistoryMessage[] | undefined> {
    const history = this.history;
    if (!history) return undefined;
    const t = this.target;
    const from = this.#from;
    const where = 'groupId' in t ? { groupId: t.groupId } : { operator: from, peer: t.to };
    const id = this.#messageId;
    return findInHistory(history, where, this.#openedAt, (m) => {
      if (m.from !== from || m.recalled) return false;
      if (id !== undefined) return 'groupId' in t ? String(m.msgSeq) === id : m.msgKey === id;
      return m.msgRandom === this.#random && chatbotDataOf(m.msgBody)?.src === TUIKIT_SRC.stream;
    });
  }

  /** The id a history message goes by here: `MsgSeq` in a group, `MsgKey` one-to-one. */
  #idOf(message: HistoryMessage): string | undefined {
    return 'groupId' in this.target ? String(message.msgSeq) : message.msgKey;
  }

  /**
   * Reads the conversation's history back (`admin_getroammsg`, `group_msg_get_simple`). A lost
   * opening call: the robot's TUIKit message with this message's `MsgRandom` is adopted. A lost
   * rewrite: the text the message shows tells whether it was applied.
   */
  async readBack(): Promise<ReadBack | undefined> {
    const attempt = this.#attempt;
    if (attempt === undefined) return undefined;
    const found = await this.#find();
    if (!found || found.length > 1) return undefined;
    const message = found[0];
    const messageId = message && this.#idOf(message);
    const data = message && chatbotDataOf(message.msgBody);
    let verdict: ReadBack | undefined;
    if (this.#messageId === undefined) {
      verdict = messageId ? { applied: true, messageId } : { applied: false };
      if (verdict.applied) {
        this.#messageId = verdict.messageId;
        // The message's text as it holds it: the chunk sent, or, for a first call taken over from
        // another process (whose chunk this one never saw), all that process wrote. Rewrites go on from it.
        this.#text = data ? chatbotTextOf(data) : this.#text + attempt;
        // Taken over from another process, the message found may have been closed since.
        this.#closed = attempt === '' && data !== undefined && isClosed(data);
      }
    } else if (messageId && data) {
      verdict = judgeReadBack(chatbotTextOf(data), this.#text.length, attempt, messageId);
      if (verdict?.applied) this.#text += attempt;
    }
    if (!verdict) return undefined;
    this.#attempt = undefined;
    return verdict;
  }

  /** Before rewriting a message taken over from another process: the text it shows, from history. */
  async #learnText(): Promise<void> {
    const found = await this.#find();
    const data = found?.length === 1 && found[0] ? chatbotDataOf(found[0].msgBody) : undefined;
    // Unread, the message is closed with what this process writes: less than it showed, but closed.
    if (data) {
      this.#text = chatbotTextOf(data);
      this.#closed = isClosed(data);
    }
    this.#textUnknown = false;
  }

  next(): void {
    this.#messageId = undefined;
    this.#closed = false;
    this.#text = '';
    this.#random = randomUint32();
  }

  snapshot(): MessageState | undefined {
    if (this.#messageId === undefined) return undefined;
    return { messageId: this.#messageId, random: this.#random };
  }

  opening(): MessageState {
    return { messageId: '', random: this.#random, opening: { at: Math.floor(Date.now() / 1000) } };
  }

  resume(state: MessageState): void {
    if (state.random !== undefined) this.#random = state.random;
    if (state.opening) {
      // Another process's first call, on its way when it died: `readBack()` finds its message.
      this.#messageId = undefined;
      this.#openedAt = state.opening.at;
      this.#attempt = '';
      return;
    }
    this.#messageId = state.messageId;
    // A rewrite replaces the whole text: what the message shows must be read first.
    this.#textUnknown = true;
    this.#openedAt = 0;
  }

  async sendPlain(text: string): Promise<void> {
    await this.plain(text);
  }
}

/** Whether a TUIKit message's data says it is closed: finished, or an error. */
function isClosed(data: Record<string, unknown>): boolean {
  return data.isFinished === 1 || data.src === TUIKIT_SRC.error;
}

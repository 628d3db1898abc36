import type { RichMessage } from '@imbot/core';
import { randomUint32 } from '@imbot/core/internal';
import { EventEmitter } from 'eventemitter3';

/** How a message looks in the user's client: growing, complete, given up on, or recalled by its sender. */
export type MessageState = 'streaming' | 'finished' | 'abandoned' | 'recalled';

/** A message as the receiving user's client would show it. */
export interface Message {
  msgKey: string;
  from: string;
  /** The user or robot it was sent to; for a group message, the group id. */
  to: string;
  groupId?: string;
  /** `text`: an ordinary message; `stream`: a streamed one, assembled; `custom`: another element. */
  kind: 'text' | 'stream' | 'custom';
  text: string;
  state: MessageState;
  /** Milliseconds since the epoch when it was first sent. */
  time: number;
  /** Milliseconds since the epoch of its last change. */
  updatedAt: number;
  /** Calls that made it: 1 for a plain message, one per chunk call for a stream. */
  calls: number;
  /** Set on a message that arrived from a robot's `stream_msg` stream. */
  streamMsgId?: string;
  /** A group message's number in its group (Tencent `MsgSeq`). */
  seq?: number;
  /** Users the message @-mentions (Tencent `GroupAtInfo`, RongCloud `mentionedInfo`). */
  mentions?: string[];
  /**
   * What a client renders instead of the text: an image, a file or a card (absent for text). A
   * user's picture or file keeps the text typed with it in `text`.
   */
  content?: RichMessage;
  /** Set on a user's press of a card button: `text` is the button's value. */
  pressed?: boolean;
  /**
   * A robot message in TUIKit's AI-robot format (a custom element whose `Data` has `chatbotPlugin`):
   * its data as last sent or rewritten. A `src: 2` message grows by rewrites, `streaming` until its
   * `isFinished: 1`; `src: 23` is an error, shown as its `errorInfo`.
   */
  chatbot?: Record<string, unknown>;
  /** Why a finished stream ended, as its sender told the cloud (RongCloud's `completeReason`). */
  completeReason?: string;
  /** A recalled message that clients drop without a "message recalled" notice. */
  silent?: boolean;
  /**
   * The message this one quotes, as its client shows it above the text (Tencent: TUIKit's
   * `messageReply` in `CloudCustomData`; RongCloud: `RC:ReferenceMsg`).
   */
  quote?: { messageId: string; text: string; from?: string };
  /** Milliseconds since the epoch when its reader marked it read (a bot's read mark on a user's message). */
  readAt?: number;
}

/** A group: its type in the cloud's words, and its members in the order they joined. */
export interface Group {
  groupId: string;
  type: string;
  members: string[];
}

/**
 * What a user's client shows while the other side is typing: who types, to whom, until when
 * (milliseconds since the epoch; the client drops it then, or when that side's message arrives),
 * and what runs, when the signal names it.
 */
export interface TypingStatus {
  from: string;
  to: string;
  until: number;
  statusText?: string;
}

export interface ChatEvents {
  /** A typing signal arrived, or a typing status ended (`until` 0). */
  typing: (status: TypingStatus) => void;
  message: (message: Message) => void;
  update: (message: Message) => void;
  /**
   * A user wrote to a robot (or @-mentioned one in a group) and no callback URL is set: the cloud
   * accepted the message, and no bot hears it.
   */
  unheard: (message: Message) => void;
  /** The bots or their profiles changed. */
  robots: () => void;
  /** A group was created or its members changed. */
  groups: () => void;
}

/** A conversation's key: the two user ids in a fixed order. */
export function c2cKey(a: string, b: string): string {
  return a < b ? `c2c:${a}\u0000${b}` : `c2c:${b}\u0000${a}`;
}

/** The key of `from`'s typing status in its chat with `to`. */
function typingKey(from: string, to: string): string {
  return `${c2cKey(from, to)}\u0000${from}`;
}

function groupKey(groupId: string): string {
  return `group:${groupId}`;
}

/**
 * Every conversation's messages in an emulated app, whichever cloud: changes go through methods
 * that emit `message`/`update`, so tests and the console can follow them live.
 */
export class ChatState extends EventEmitter<ChatEvents> {
  readonly #conversations = new Map<string, Message[]>();
  readonly #byKey = new Map<string, Message>();
  #seq = 0;
  /** Accounts the app has: robots, and users once a message or profile names them. */
  readonly #accounts = new Set<string>();
  readonly #groups = new Map<string, Group>();
  /** Typing statuses by conversation key and typist. */
  readonly #typing = new Map<string, TypingStatus>();

  constructor(readonly now: () => number = Date.now) {
    super();
  }

  /**
   * A MsgKey in the cloud's shape, `seq_random_time`, carrying the sender's `MsgRandom` when it gave
   * one (so a read-back can match a message on the random its sender chose).
   */
  newMsgKey(random: number = randomUint32()): string {
    this.#seq = (this.#seq + 1) % 2 ** 31;
    return `${this.#seq}_${random}_${Math.floor(this.now() / 1000)}`;
  }

  /** Whether the app has this account (the cloud needs users imported; here, naming one imports it). */
  hasAccount(userId: string): boolean {
    return this.#accounts.has(userId);
  }

  /** Records that an account exists. */
  addAccount(userId: string): void {
    this.#accounts.add(userId);
  }

  /**
   * A typing signal from `from` to `to`: shown for `showMs` (as the cloud's clients do), ended at
   * once by `typing: false`. Signals are not messages: nothing is stored in the conversation.
   */
  setTyping(from: string, to: string, typing: boolean, showMs: number, statusText?: string): void {
    const status: TypingStatus = { from, to, until: typing ? this.now() + showMs : 0 };
    if (statusText) status.statusText = statusText;
    const key = typingKey(from, to);
    if (typing) this.#typing.set(key, status);
    else this.#typing.delete(key);
    this.emit('typing', status);
  }

  /** What the client of `to` shows of `from` typing now, if anything. */
  typingOf(from: string, to: string): TypingStatus | undefined {
    const status = this.#typing.get(typingKey(from, to));
    return status && status.until > this.now() ? status : undefined;
  }

  /** Adds a message to its conversation and announces it. */
  add(message: Message): Message {
    if (!message.groupId && this.#typing.delete(typingKey(message.from, message.to)))
      this.emit('typing', { from: message.from, to: message.to, until: 0 });
    const key = message.groupId ? groupKey(message.groupId) : c2cKey(message.from, message.to);
    const list = this.#conversations.get(key) ?? [];
    list.push(message);
    this.#conversations.set(key, list);
    this.#byKey.set(message.msgKey, message);
    this.#accounts.add(message.from);
    if (!message.groupId) this.#accounts.add(message.to);
    this.emit('message', message);
    return message;
  }

  /**
   * Ends a stream that has had no call for `idleMs`: the user sees it stop, unfinished. Both clouds
   * end idle streams (documented for Tencent's stream_msg; the emulator applies it to every stream
   * API). A TUIKit robot message is an ordinary message the robot rewrites: nothing ends it, and
   * TUIKit keeps its bubble open (and its Stop button up) until the robot finishes it.
   */
  settleIdle(message: Message, idleMs: number, now: number): void {
    if (message.state === 'streaming' && !message.chatbot && now - message.updatedAt >= idleMs) {
      message.state = 'abandoned';
      this.touch(message);
    }
  }

  /** Announces that a message changed (a chunk appended, a stream finished or abandoned). */
  touch(message: Message): void {
    this.emit('update', message);
  }

  /** The group, if it exists. */
  group(groupId: string): Group | undefined {
    return this.#groups.get(groupId);
  }

  /** Every group, in the order they were made. */
  groups(): Group[] {
    return [...this.#groups.values()];
  }

  /** Makes a group of `type` if there is none with this id; returns the group. */
  ensureGroup(groupId: string, type: string): Group {
    let group = this.#groups.get(groupId);
    if (!group) {
      group = { groupId, type, members: [] };
      this.#groups.set(groupId, group);
      this.emit('groups');
    }
    return group;
  }

  /** Whether `userId` is a member of the group. */
  isMember(groupId: string, userId: string): boolean {
    return this.#groups.get(groupId)?.members.includes(userId) ?? false;
  }

  /** Adds a member; false if it was one already. */
  join(groupId: string, userId: string): boolean {
    const group = this.#groups.get(groupId);
    if (!group || group.members.includes(userId)) return false;
    group.members.push(userId);
    this.#accounts.add(userId);
    this.emit('groups');
    return true;
  }

  /** Removes a member; false if it was not one. */
  leave(groupId: string, userId: string): boolean {
    const group = this.#groups.get(groupId);
    const index = group?.members.indexOf(userId) ?? -1;
    if (!group || index < 0) return false;
    group.members.splice(index, 1);
    this.emit('groups');
    return true;
  }

  /**
   * `reader` has read what `peer` sent it up to `upTo` (milliseconds since the epoch): each such
   * message unread so far is marked read now, as the peer's client shows it.
   */
  markRead(reader: string, peer: string, upTo: number): number {
    let marked = 0;
    for (const message of this.conversation(reader, peer)) {
      if (
        message.from !== peer ||
        message.to !== reader ||
        message.time > upTo ||
        message.readAt !== undefined
      )
        continue;
      message.readAt = this.now();
      this.emit('update', message);
      marked++;
    }
    return marked;
  }

  byKey(msgKey: string): Message | undefined {
    return this.#byKey.get(msgKey);
  }

  conversation(a: string, b: string): Message[] {
    return this.#conversations.get(c2cKey(a, b)) ?? [];
  }

  groupConversation(groupId: string): Message[] {
    return this.#conversations.get(groupKey(groupId)) ?? [];
  }

  /** Every conversation, as `{ key, participants | groupId, messages }`. */
  conversations(): { participants?: [string, string]; groupId?: string; messages: Message[] }[] {
    return [...this.#conversations.entries()].map(([key, messages]) => {
      if (key.startsWith('group:')) return { groupId: key.slice('group:'.length), messages };
      const [a, b] = key.slice('c2c:'.length).split('\u0000') as [string, string];
      return { participants: [a, b], messages };
    });
  }

  clear(): void {
    this.#typing.clear();
    this.#conversations.clear();
    this.#byKey.clear();
    this.#accounts.clear();
    this.#groups.clear();
    this.emit('robots');
    this.emit('groups');
  }
}

import { randomUint32 } from '@imbot/core';
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
}

export interface Robot {
  userId: string;
  /** False once deleted: the cloud keeps the id but marks it invalid. */
  valid: boolean;
  createdAt: number;
}

export interface Profile {
  nick?: string;
  faceUrl?: string;
  selfSignature?: string;
}

export interface TencentEvents {
  message: (message: Message) => void;
  update: (message: Message) => void;
  robots: () => void;
}

/** A conversation's key: the two user ids in a fixed order, or the group id. */
export function c2cKey(a: string, b: string): string {
  return a < b ? `c2c:${a}\u0000${b}` : `c2c:${b}\u0000${a}`;
}

function groupKey(groupId: string): string {
  return `group:${groupId}`;
}

/**
 * Everything the emulated app holds: robots, profiles, and every conversation's messages. Changes
 * go through methods that emit `message`/`update`/`robots`, so the console can follow them live.
 */
export class TencentState extends EventEmitter<TencentEvents> {
  readonly robots = new Map<string, Robot>();
  readonly profiles = new Map<string, Profile>();
  readonly #conversations = new Map<string, Message[]>();
  readonly #byKey = new Map<string, Message>();
  #seq = 0;
  readonly #groupSeq = new Map<string, number>();
  /** Accounts the app has: robots, and users once a message or profile names them. */
  readonly #accounts = new Set<string>();

  constructor(readonly now: () => number = Date.now) {
    super();
  }

  /** A MsgKey in the cloud's shape: `seq_random_time`. */
  newMsgKey(): string {
    this.#seq = (this.#seq + 1) % 2 ** 31;
    return `${this.#seq}_${randomUint32()}_${Math.floor(this.now() / 1000)}`;
  }

  /** The next `MsgSeq` of a group: groups number their messages one by one. */
  nextGroupSeq(groupId: string): number {
    const seq = (this.#groupSeq.get(groupId) ?? 0) + 1;
    this.#groupSeq.set(groupId, seq);
    return seq;
  }

  /** Whether the app has this account (the cloud needs users imported; here, naming one imports it). */
  hasAccount(userId: string): boolean {
    return this.#accounts.has(userId);
  }

  validRobot(userId: string): Robot | undefined {
    const robot = this.robots.get(userId);
    return robot?.valid ? robot : undefined;
  }

  validRobotCount(): number {
    let count = 0;
    for (const robot of this.robots.values()) if (robot.valid) count++;
    return count;
  }

  putRobot(userId: string): void {
    const robot = this.robots.get(userId);
    if (robot) robot.valid = true;
    else this.robots.set(userId, { userId, valid: true, createdAt: this.now() });
    this.#accounts.add(userId);
    this.emit('robots');
  }

  invalidateRobot(userId: string): void {
    const robot = this.robots.get(userId);
    if (robot) robot.valid = false;
    this.emit('robots');
  }

  setProfile(userId: string, profile: Profile): void {
    this.profiles.set(userId, { ...this.profiles.get(userId), ...profile });
    this.#accounts.add(userId);
    this.emit('robots');
  }

  /** Adds a message to its conversation and announces it. */
  add(message: Message): Message {
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

  /** Announces that a message changed (a chunk appended, a stream finished or abandoned). */
  touch(message: Message): void {
    this.emit('update', message);
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
    this.robots.clear();
    this.profiles.clear();
    this.#conversations.clear();
    this.#byKey.clear();
    this.#groupSeq.clear();
    this.#accounts.clear();
    this.emit('robots');
  }
}

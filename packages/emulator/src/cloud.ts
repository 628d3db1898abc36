import type { CallRecord } from './api-server.js';
import type { CallbackResult } from './callbacks.js';
import type { ChatState, Message } from './chat-state.js';
import type { WindowCounters } from './window.js';

/** A user writes to a bot. */
export interface UserSends {
  from: string;
  to: string;
  text: string;
}

/** A user writes in a group and @-mentions bots. */
export interface UserSendsToGroup {
  from: string;
  groupId: string;
  text: string;
  /** Bots @-mentioned; each gets `@<id> ` in front of the text unless the text already names it. */
  mentions: string[];
}

export interface UserSendResult {
  message: Message;
  /** The callbacks posted and the app's answers; the first one as `callback`. */
  callback?: CallbackResult;
  callbacks?: CallbackResult[];
}

/** A bot as the console shows it, in neutral words. */
export interface EmulatedBot {
  userId: string;
  name?: string;
  avatarUrl?: string;
  description?: string;
  /** False for a deleted Tencent robot, which the cloud keeps as invalid. */
  valid: boolean;
}

/** What both emulated clouds offer to tests, the control API and the console. */
export interface EmulatedCloud {
  readonly state: ChatState;
  bots(): EmulatedBot[];
  userSends(input: UserSends): Promise<UserSendResult>;
  userSendsToGroup(input: UserSendsToGroup): Promise<UserSendResult>;
  conversation(userId: string, botId: string): Message[];
  groupConversation(groupId: string): Message[];
  calls(): CallRecord[];
  callbacks(): CallbackResult[];
  rate(): Record<string, WindowCounters>;
}

/** The text of a group message: each mentioned bot's `@<id> ` in front, unless the text names it. */
export function mentionText(text: string, mentions: string[]): string {
  const prefix = mentions
    .filter((id) => !text.includes(`@${id}`))
    .map((id) => `@${id} `)
    .join('');
  return `${prefix}${text}`;
}

import { ValidationError } from '@imbot/core';

/** What a thread id stands for: the bot's one-to-one chat with a user, or a group. */
export type ImbotThread = { type: 'dm'; userId: string } | { type: 'group'; groupId: string };

/**
 * The thread id of a conversation: `<cloud>:dm:<userId>` or `<cloud>:group:<groupId>`, each id
 * percent-encoded (`encodeURIComponent`), so ids with `:`, `#` or `@` round-trip
 * (`tencent:dm:alice`, `tencent:group:%40TGS%23demo`). A conversation is also its own channel.
 */
export function encodeThreadId(cloud: string, thread: ImbotThread): string {
  return thread.type === 'dm'
    ? `${cloud}:dm:${encodeURIComponent(thread.userId)}`
    : `${cloud}:group:${encodeURIComponent(thread.groupId)}`;
}

/** The conversation a thread id of `cloud` names; a `ValidationError` for any other string. */
export function decodeThreadId(cloud: string, threadId: string): ImbotThread {
  const parts = typeof threadId === 'string' ? threadId.split(':') : [];
  const [name, kind, encoded] = parts;
  let id = '';
  try {
    id = parts.length === 3 && encoded ? decodeURIComponent(encoded) : '';
  } catch {
    id = '';
  }
  if (name !== cloud || (kind !== 'dm' && kind !== 'group') || id === '') {
    throw new ValidationError(
      'threadId',
      `threadId: "${String(threadId)}" is not a ${cloud} thread id (${cloud}:dm:<userId> or ${cloud}:group:<groupId>)`,
    );
  }
  return kind === 'dm' ? { type: 'dm', userId: id } : { type: 'group', groupId: id };
}

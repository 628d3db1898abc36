import * as z from 'zod';
import {
  type BotPlatform,
  type InboundMessage,
  type ReplyTarget,
  type StoredMessage,
  stripMentions,
} from '../platform.js';
import { parseInput } from '../validation.js';
import { assistantModelMessage, type ModelMessage, userModelMessage } from './model-messages.js';
import { readLatestMessages } from './read.js';
import { type TranscriptEntry, type TranscriptStore, transcriptKey } from './transcript.js';

/** What `reply.history()` takes. */
export interface HistoryOptions {
  /** Messages at most, the current one included. Default 20, at most 200. */
  limit?: number;
  /** Only messages sent before this time, among the latest 200 (the current message is then left out). */
  before?: Date;
}

const historyOptions = z.strictObject({
  limit: z.number().int().min(1).max(200).optional(),
  before: z.date({ error: 'must be a Date' }).optional(),
});

/** With `before`, the newest messages looked through for those older than it. */
const READ_BEFORE = 200;

/** Where a conversation's earlier messages come from. */
export interface HistorySource {
  platform: BotPlatform;
  /** The transcript store, where the receiver keeps one; else the cloud's history is read. */
  transcript: TranscriptStore | undefined;
}

/**
 * The conversation `message` belongs to, as model messages, oldest first, ending with `message`
 * itself: the users' messages as user turns (pictures and files as parts; in a group, each starting
 * with its sender), the bot's own (streamed, plain, cards as their text) as assistant turns with
 * their whole final text. From the transcript store where there is one, else from the cloud
 * (Tencent: `admin_getroammsg`, `group_msg_get_simple`, paged; recalled messages left out). A
 * streamed answer that rolled over past the cloud's size limit is two assistant turns when read from
 * the cloud (the user saw two messages) and one from a transcript.
 */
export async function conversationHistory(
  source: HistorySource,
  message: InboundMessage,
  options: HistoryOptions = {},
): Promise<ModelMessage[]> {
  parseInput(historyOptions, options, 'options');
  const limit = options.limit ?? 20;
  const before = options.before?.getTime();
  const current = before === undefined ? [userModelMessage(message)] : [];
  const room = limit - current.length;
  if (room === 0) return current;
  const earlier = source.transcript
    ? (
        await source.transcript.read(
          transcriptKey(source.platform.name, message),
          before === undefined ? room + 1 : READ_BEFORE,
        )
      )
        .filter((entry) => entry.id !== message.messageKey && (before === undefined || entry.time < before))
        .map((entry) => fromEntry(entry, message))
    : await fromCloud(source.platform, message, room, before);
  return [...earlier.slice(Math.max(0, earlier.length - room)), ...current];
}

function fromEntry(entry: TranscriptEntry, message: InboundMessage): ModelMessage {
  if (entry.role === 'assistant') return assistantModelMessage(entry.text);
  return userModelMessage({
    from: entry.from,
    conversation: message.conversation,
    text: entry.text,
    attachments: (entry.attachments ?? []).map((a) => ({ ...a, raw: undefined })),
  });
}

/** Messages read back from the cloud, oldest first, the current one left out. */
async function fromCloud(
  platform: BotPlatform,
  message: InboundMessage,
  room: number,
  before: number | undefined,
): Promise<ModelMessage[]> {
  const target: ReplyTarget =
    message.conversation.type === 'group'
      ? { botId: message.botId, groupId: message.conversation.groupId }
      : { botId: message.botId, userId: message.from };
  // One more than room: the current message is among the newest and is left out.
  const { messages } = await readLatestMessages(
    platform,
    target,
    before === undefined ? room + 1 : READ_BEFORE,
  );
  return messages
    .filter(
      (stored) => !isMessage(stored, message) && (before === undefined || stored.time.getTime() < before),
    )
    .reverse()
    .map((stored) =>
      stored.from === message.botId
        ? assistantModelMessage(withoutMentions(stored))
        : userModelMessage({
            ...stored,
            text:
              stored.conversation.type === 'group'
                ? stripMentions(stored.text, [message.botId])
                : stored.text,
          }),
    );
}

/**
 * The bot's group message without the @-mentions of the users it answered, which the cloud keeps
 * in front of the text (the model wrote none of them).
 */
function withoutMentions(stored: StoredMessage): string {
  return stored.conversation.type === 'group' ? stored.text.replace(/^(@\S+ )+/, '') : stored.text;
}

/**
 * Whether `stored` is `message` as the history lists it: by its key one-to-one, by its number in
 * the group (a group message's key is `<group>:<seq>`, its history id the seq).
 */
function isMessage(stored: StoredMessage, message: InboundMessage): boolean {
  if (stored.messageId === message.messageKey) return true;
  return (
    message.conversation.type === 'group' &&
    message.messageKey === `${message.conversation.groupId}:${stored.messageId}`
  );
}

import type {
  Conversation,
  HistorySlice,
  InboundAttachment,
  InboundMessage,
  ReplyTarget,
  StoredMessage,
} from '../platform.js';

/** One message of a conversation as a transcript keeps it: JSON, so that any store can hold it. */
export interface TranscriptEntry {
  /** The message's key (a user's) or id (the bot's). */
  id: string;
  role: 'user' | 'assistant';
  from: string;
  /** The whole text: a user's as sent (bots' @-mentions left out), a streamed answer's final text. */
  text: string;
  /** Milliseconds since the epoch. */
  time: number;
  /** A user's pictures, files, voice notes and videos, by URL. */
  attachments?: Omit<InboundAttachment, 'raw'>[];
}

/**
 * Where a receiver keeps the conversations it sees, for clouds that keep no history a bot can read
 * (RongCloud's is an hourly archive) or for any app that wants its own: `MemoryTranscriptStore` in
 * one process, `RedisTranscriptStore` (`@imbot/redis`) shared by every replica.
 */
export interface TranscriptStore {
  /** Adds `entry` as the newest message of `conversation` (a `transcriptKey`). */
  append(conversation: string, entry: TranscriptEntry): Promise<void>;
  /** The newest `limit` messages of `conversation`, oldest first. */
  read(conversation: string, limit: number): Promise<TranscriptEntry[]>;
}

/** The key a conversation is kept under: the cloud, the bot, and the chat or the group. */
export function transcriptKey(platform: string, where: ReplyTarget | InboundMessage): string {
  const conversation: Conversation =
    'conversation' in where
      ? where.conversation.type === 'group'
        ? where.conversation
        : { type: 'c2c', userId: where.from }
      : 'groupId' in where
        ? { type: 'group', groupId: where.groupId }
        : { type: 'c2c', userId: where.userId };
  const chat = conversation.type === 'group' ? `group:${conversation.groupId}` : `c2c:${conversation.userId}`;
  return `${platform}:${where.botId}:${chat}`;
}

/** A user's message as a transcript entry. */
export function userEntry(message: InboundMessage): TranscriptEntry {
  const entry: TranscriptEntry = {
    id: message.messageKey,
    role: 'user',
    from: message.from,
    text: message.text,
    time: message.time.getTime(),
  };
  const attachments = message.attachments.map(({ raw: _, ...rest }) => rest);
  if (attachments.length > 0) entry.attachments = attachments;
  return entry;
}

/** How much one conversation keeps, and how many conversations one process keeps. */
export interface MemoryTranscriptStoreOptions {
  /** Messages kept per conversation; the oldest go first. Default 200. */
  maxMessages?: number;
  /** UTF-16 characters of text kept per conversation; the oldest messages go first. Default 200,000. */
  maxChars?: number;
  /** Conversations kept; the one least recently written goes first. Default 10,000. */
  maxConversations?: number;
}

/**
 * A transcript store in this process's memory, bounded per conversation (messages and text) and in
 * conversations, so that a busy bot's memory stays flat. Lost on restart and not shared: for
 * several replicas, `RedisTranscriptStore`.
 */
export class MemoryTranscriptStore implements TranscriptStore {
  readonly #conversations = new Map<string, { entries: TranscriptEntry[]; chars: number }>();
  readonly #maxMessages: number;
  readonly #maxChars: number;
  readonly #maxConversations: number;

  constructor(options: MemoryTranscriptStoreOptions = {}) {
    this.#maxMessages = options.maxMessages ?? 200;
    this.#maxChars = options.maxChars ?? 200_000;
    this.#maxConversations = options.maxConversations ?? 10_000;
  }

  async append(conversation: string, entry: TranscriptEntry): Promise<void> {
    const kept = this.#conversations.get(conversation) ?? { entries: [], chars: 0 };
    // Written last, least recently written first: the map's order is the eviction order.
    this.#conversations.delete(conversation);
    this.#conversations.set(conversation, kept);
    kept.entries.push(entry);
    kept.chars += entry.text.length;
    while (
      kept.entries.length > this.#maxMessages ||
      (kept.chars > this.#maxChars && kept.entries.length > 1)
    ) {
      kept.chars -= (kept.entries.shift() as TranscriptEntry).text.length;
    }
    if (this.#conversations.size > this.#maxConversations) {
      const oldest = this.#conversations.keys().next().value as string;
      this.#conversations.delete(oldest);
    }
  }

  async read(conversation: string, limit: number): Promise<TranscriptEntry[]> {
    const entries = this.#conversations.get(conversation)?.entries ?? [];
    return entries.slice(Math.max(0, entries.length - limit));
  }
}

/** Most messages `readTranscript` looks through: a transcript keeps no more by default. */
const TRANSCRIPT_READ = 1000;

/**
 * A transcript read as a cloud's history reads (`platform.readHistory`): up to `limit` messages of
 * `target`'s conversation, newest first, from before the message `before` names (a slice's own
 * `before`), among the latest 1,000 kept.
 */
export async function readTranscript(
  store: TranscriptStore,
  platform: string,
  target: ReplyTarget,
  limit: number,
  before?: string,
): Promise<HistorySlice> {
  const entries = await store.read(transcriptKey(platform, target), TRANSCRIPT_READ);
  const end = before === undefined ? entries.length : entries.findIndex((entry) => entry.id === before);
  const start = Math.max(0, end - limit);
  const conversation: Conversation =
    'groupId' in target ? { type: 'group', groupId: target.groupId } : { type: 'c2c', userId: target.userId };
  const messages = entries
    .slice(start, Math.max(0, end))
    .reverse()
    .map(
      (entry): StoredMessage => ({
        messageId: entry.id,
        conversation,
        from: entry.from,
        text: entry.text,
        time: new Date(entry.time),
        attachments: (entry.attachments ?? []).map((a) => ({ ...a, raw: undefined })),
        raw: entry,
      }),
    );
  const oldest = entries[start];
  return start > 0 && oldest ? { messages, before: oldest.id } : { messages };
}

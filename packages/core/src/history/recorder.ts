import type { BotPlatform, InboundMessage, ReplyTarget } from '../platform.js';
import { conversationHistory, type HistoryOptions } from './conversation.js';
import type { ModelMessage } from './model-messages.js';
import {
  MemoryTranscriptStore,
  type TranscriptEntry,
  type TranscriptStore,
  transcriptKey,
  userEntry,
} from './transcript.js';

/**
 * What a receiver writes into its transcript store, and how it reads a conversation back: each
 * user message is kept when its turn comes, the bot's answers once sent (a stream's when it
 * finishes), in order per conversation, and a read waits for the writes before it. With no store
 * configured it keeps nothing, until a handler asks for the history on a cloud that keeps none a
 * bot can read: from then on it keeps the conversations in memory. A store that fails is reported,
 * and never fails the answer.
 */
export class TranscriptRecorder {
  readonly #platform: BotPlatform;
  readonly #failed: (error: unknown) => void;
  readonly #pending = new Map<string, Promise<void>>();
  #store: TranscriptStore | undefined;

  constructor(platform: BotPlatform, store: TranscriptStore | undefined, failed: (error: unknown) => void) {
    this.#platform = platform;
    this.#store = store;
    this.#failed = failed;
  }

  /** The transcript store, where there is one (given, or started by a history read). */
  get store(): TranscriptStore | undefined {
    return this.#store;
  }

  /** The conversation `message` belongs to, ending with it (see `conversationHistory`). */
  async history(message: InboundMessage, options?: HistoryOptions): Promise<ModelMessage[]> {
    if (!this.#store && !this.#platform.readHistory) {
      this.#store = new MemoryTranscriptStore();
      this.user(message);
    }
    await this.#pending.get(transcriptKey(this.#platform.name, message));
    return conversationHistory({ platform: this.#platform, transcript: this.#store }, message, options);
  }

  /** Keeps a user's message. */
  user(message: InboundMessage): void {
    this.#append(transcriptKey(this.#platform.name, message), userEntry(message));
  }

  /** Keeps a message the bot sent to `target`. */
  answer(target: ReplyTarget, id: string, text: string): void {
    if (text === '') return;
    const entry: TranscriptEntry = { id, role: 'assistant', from: target.botId, text, time: Date.now() };
    this.#append(transcriptKey(this.#platform.name, target), entry);
  }

  #append(key: string, entry: TranscriptEntry): void {
    const store = this.#store;
    if (!store) return;
    const written = (this.#pending.get(key) ?? Promise.resolve())
      .then(() => store.append(key, entry))
      .catch(this.#failed)
      .finally(() => {
        if (this.#pending.get(key) === written) this.#pending.delete(key);
      });
    this.#pending.set(key, written);
  }
}

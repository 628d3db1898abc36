import type { ImbotError } from '../errors.js';
import type { HistoryOptions } from '../history/conversation.js';
import type { ModelMessage, UserModelMessage } from '../history/model-messages.js';
import type { TranscriptRecorder } from '../history/recorder.js';
import { fallbackText, type RichMessage } from '../message/rich.js';
import type { BotPlatform, InboundMessage, Questions, ReplyTarget, SendTextOptions } from '../platform.js';
import type { StreamSession, StreamSessionOptions } from '../stream/session.js';
import type { TypingIndicator } from '../stream/typing.js';
import type { Run } from './lanes.js';

/** What a message handler answers with: text, or a stream that grows as it is written. */
export interface Reply {
  /** Where the answer goes: the sender of a one-to-one message, or the group. */
  readonly target: ReplyTarget;
  /**
   * Aborted when this answer is interrupted: the user stopped it (a `StoppedError`), a newer message
   * interrupted it, or `close()` ran past its timeout.
   */
  readonly signal: AbortSignal;
  /**
   * The cloud's typing signal to the user, started with the handler and stopped by the answer's
   * first text; `typing.status('searching')` keeps it alive and names what runs. Undefined with
   * `typing: false` or where the cloud's clients show none (groups).
   */
  readonly typing: TypingIndicator | undefined;
  /** Sends a plain text message as the bot (quoting `options.quote`, if given); resolves with its id. */
  text(text: string, options?: SendTextOptions): Promise<{ messageId: string }>;
  /** Sends an image, a file or a card (or text) as the bot; resolves with its id. */
  send(message: RichMessage): Promise<{ messageId: string }>;
  /** Opens a stream session to the sender or the group: the answer grows as you write it. */
  stream(options?: StreamSessionOptions): StreamSession;
  /**
   * Asks which question the user meant: `items` they can tap, each tap arriving as their text
   * message. On Tencent a TUIKit `clarify_msg` branch card; where the cloud has no such card, a
   * text message listing them.
   */
  clarify(title: string, items: readonly string[]): Promise<{ messageId: string }>;
  /**
   * The conversation so far as model messages (the AI SDK's `ModelMessage`), oldest first, ending
   * with the message being answered: to hand to `streamText({ messages })` or an agent.
   */
  history(options?: HistoryOptions): Promise<ModelMessage[]>;
}

/** Questions as text: the title, then one item a line. */
export function questionsText(questions: Questions): string {
  return [questions.title, ...questions.items.map((item) => `• ${item}`)].join('\n');
}

/** A user's message as a handler receives it: with its model message at hand. */
export interface ReceivedMessage extends InboundMessage {
  /**
   * The message as a user `ModelMessage`: its text (the bots' @-mentions left out; in a group,
   * after `<sender>: `), its pictures as `image` parts and its files, voice notes and videos as
   * `file` parts, by the cloud's URL of the original.
   */
  toModelMessage(): UserModelMessage;
}

/**
 * Where a reply to `message` goes: its sender in a one-to-one chat, or its group, @-mentioning the
 * sender when `mentionSender` is set.
 */
export function replyTargetOf(message: InboundMessage, mentionSender: boolean): ReplyTarget {
  if (message.conversation.type === 'c2c') return { botId: message.botId, userId: message.from };
  const target: ReplyTarget = { botId: message.botId, groupId: message.conversation.groupId };
  return mentionSender ? { ...target, mention: [message.from] } : target;
}

/** What an answer needs of its receiver. */
export interface AnswerHost {
  readonly platform: BotPlatform;
  readonly mentionSender: boolean;
  readonly transcript: TranscriptRecorder;
  /** Opens a stream with the receiver's stream defaults under `options`. */
  openStream(target: ReplyTarget, options?: StreamSessionOptions): StreamSession;
}

/**
 * The bot's answer to one message: its `Reply`, the streams it opened, its typing signal, and how
 * to interrupt it. Made when the message arrives (so a middleware can reply at once); its turn,
 * `run()`, comes when its conversation's lane lets it.
 */
export class AnswerRun implements Run, Reply {
  readonly message: InboundMessage;
  readonly target: ReplyTarget;
  /** Milliseconds since the epoch when the message arrived: a stop sent before it may stop it. */
  readonly startedAt = Date.now();
  readonly #host: AnswerHost;
  readonly #controller = new AbortController();
  readonly #sessions = new Set<StreamSession>();
  /** The ids of the messages its streams opened: a stop naming one of them stops this answer. */
  readonly #messageIds = new Set<string>();
  #typing: TypingIndicator | undefined;
  #done: Promise<void> | undefined;
  #handled = false;
  /** Whether the answer sent a message of its own (text, rich message, questions). */
  #said = false;

  constructor(message: InboundMessage, host: AnswerHost) {
    this.message = message;
    this.#host = host;
    this.target = replyTargetOf(message, host.mentionSender);
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get typing(): TypingIndicator | undefined {
    return this.#typing;
  }

  /** Sets the answer's typing signal (the typing middleware does), which its first text stops. */
  useTyping(typing: TypingIndicator | undefined): void {
    this.#typing = typing;
    if (this.signal.aborted) typing?.stop();
  }

  async text(text: string, options?: SendTextOptions): Promise<{ messageId: string }> {
    this.#typing?.stop();
    this.#said = true;
    const sent = await this.#host.platform.sendText(this.target, text, options);
    this.#host.transcript.answer(this.target, sent.messageId, text);
    return sent;
  }

  async send(message: RichMessage): Promise<{ messageId: string }> {
    this.#typing?.stop();
    this.#said = true;
    const sent = await this.#host.platform.sendMessage(this.target, message);
    this.#host.transcript.answer(this.target, sent.messageId, fallbackText(message));
    return sent;
  }

  clarify(title: string, items: readonly string[]): Promise<{ messageId: string }> {
    return this.questions({ kind: 'clarify', title, items });
  }

  /** Sends `questions` as the cloud's card, or as text where it has none. */
  async questions(questions: Questions): Promise<{ messageId: string }> {
    this.#typing?.stop();
    this.#said = true;
    const text = questionsText(questions);
    const platform = this.#host.platform;
    const sent = platform.sendQuestions
      ? await platform.sendQuestions(this.target, questions)
      : await platform.sendText(this.target, text);
    this.#host.transcript.answer(this.target, sent.messageId, text);
    return sent;
  }

  stream(options?: StreamSessionOptions): StreamSession {
    const typing = this.#typing;
    const session = this.#host.openStream(this.target, typing ? { typing, ...options } : options);
    let messageId = `${this.message.messageKey}:answer`;
    session.on('open', (opened) => {
      messageId = opened.messageId;
      this.#messageIds.add(opened.messageId);
    });
    session.once('finish', (finish) => this.#host.transcript.answer(this.target, messageId, finish.text));
    this.#sessions.add(session);
    if (this.signal.aborted) void session.abort(this.signal.reason);
    return session;
  }

  history(options?: HistoryOptions): Promise<ModelMessage[]> {
    return this.#host.transcript.history(this.message, options);
  }

  /**
   * Whether one of this answer's streams opened the message `key` names. One-to-one, the key is the
   * message's `MsgKey`. In a group a client names a message `seq_random_time` (TUIKit's
   * `generateMessageKey`) while the cloud's answer gave only its `MsgSeq`, the message's id here: the
   * key's first part is compared with it.
   */
  wrote(key: string): boolean {
    if (this.#messageIds.has(key)) return true;
    if (this.message.conversation.type !== 'group') return false;
    const seq = key.split('_')[0];
    return seq !== undefined && /^\d+$/.test(seq) && this.#messageIds.has(seq);
  }

  /** Settles when the turn has run and the streams it opened have finished (never rejects). */
  get done(): Promise<void> {
    return this.#done ?? Promise.resolve();
  }

  /**
   * Runs the answer's turn: `turn` (the turn's middleware and the handler). A failure is handed to
   * `failed` unless the answer was interrupted, and aborts its open streams.
   */
  run(turn: () => Promise<void>, failed: (error: unknown) => void, closing: () => boolean): this {
    this.#done = (async () => {
      try {
        await turn();
      } catch (error) {
        // An interrupted handler failing is the interruption itself, not a fault.
        if (!this.signal.aborted) {
          failed(error);
          // Nothing said yet: where the client waits with a bubble of its own, end it as failed.
          if (!this.#said && this.#sessions.size === 0) await this.#failed();
        }
        await Promise.allSettled([...this.#sessions].map((s) => s.abort(error)));
      }
      this.#typing?.stop();
      this.#handled = true;
      if (closing()) this.closing();
      await this.streamsFinished();
    })();
    return this;
  }

  /** Tells the user the answer failed, where the platform has a way (`answerFailed`); never throws. */
  async #failed(): Promise<void> {
    try {
      await this.#host.platform.answerFailed?.(this.target);
    } catch {
      // The handler's failure is reported already; a notice that could not be sent adds nothing.
    }
  }

  /**
   * The receiver is closing: once the handler has returned, the streams it left open are ended with
   * what was written (nothing else will write to them).
   */
  closing(): void {
    if (!this.#handled) return;
    for (const session of this.#sessions) if (!session.closed) void session.end();
  }

  interrupt(reason: ImbotError): void {
    this.stop(reason, '');
  }

  /**
   * Interrupts the answer: its signal aborts with `reason`, typing stops, and its open streams end
   * with what was written and then `marker`.
   */
  stop(reason: ImbotError, marker: string): void {
    if (this.signal.aborted) return;
    this.#controller.abort(reason);
    this.#typing?.stop();
    for (const session of this.#sessions) {
      if (session.closed) continue;
      // The marker's own space is left out after text that ends in one.
      if (marker !== '') session.write(/\s$/.test(session.text) ? marker.trimStart() : marker);
      void session.abort(reason);
    }
  }

  /** Settles when every stream this answer opened has finished. */
  streamsFinished(): Promise<void> {
    return Promise.all([...this.#sessions].map((s) => s.done)).then(() => undefined);
  }
}

import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ImbotError, NotSupportedError, StreamClosedError, ValidationError } from '../errors.js';
import type { BotPlatform, ReplyTarget } from '../platform.js';
import type { Reply } from '../receive/answer-run.js';
import type { StreamSession, StreamSessionOptions } from '../stream/session.js';
import { activityToMessages } from './cards.js';
import { activityToText, streamInfoOf, targetOf } from './convert.js';
import type { ActivityLike, ConversationReferenceLike } from './protocol.js';

/** One turn as the bridge sees it: the streams it opened, and the pipeline's reply for a user's message. */
export interface TurnScope {
  readonly streams: Set<string>;
  /** Absent for proactive turns; present, its streams are interrupted with the turn. */
  readonly reply?: Reply | undefined;
}

interface StreamState {
  target: ReplyTarget;
  session?: StreamSession;
  /** The cumulative text the bot has streamed so far; later updates must extend it. */
  shown: string;
  /** The bot sent text that does not extend what was shown: streaming stops, the final goes out plain. */
  diverged: boolean;
  /** The session closed under the stream (idle past `idleTimeoutMs`): reported when the stream ends. */
  broken?: Error;
}

/**
 * What an adapter does with the activities a bot sends, whatever its SDK: messages become plain
 * messages (cards, images, files and suggested actions in the cloud's own elements), `typing` activities with a
 * `streaminfo` entity become one stream session whose message grows, the final `message` closes it,
 * `delay` pauses, and edits and recalls go to the platform where the cloud has them. The Bot
 * Framework and Agents SDK adapters are thin layers over it.
 */
export class ActivityBridge {
  readonly #platform: BotPlatform;
  readonly #streamOptions: StreamSessionOptions | undefined;
  readonly #streams = new Map<string, StreamState>();

  readonly #mentionSender: boolean;

  /** `mentionSender` (default true): replies in a group @-mention the user they answer. */
  constructor(
    platform: BotPlatform,
    streamOptions?: StreamSessionOptions,
    options: { mentionSender?: boolean } = {},
  ) {
    this.#platform = platform;
    this.#streamOptions = streamOptions;
    this.#mentionSender = options.mentionSender ?? true;
  }

  /** Sends one activity of `turn`; resolves with the id of what the user got ('' for nothing). */
  async send(activity: ActivityLike, turn: TurnScope): Promise<{ id: string }> {
    const info = streamInfoOf(activity);
    switch (activity.type) {
      case 'typing':
        if (!info || info.streamType === 'informative') {
          // "Typing", or an informative update ("Searching…"): the cloud's typing signal, naming it.
          turn.reply?.typing?.status(info && activity.text ? activity.text : undefined);
          if (!info) return { id: '' };
        }
        return this.#streamUpdate(activity, turn, info.streamId, info.streamType);
      case 'message':
      case undefined:
        turn.reply?.typing?.stop();
        if (info?.streamType === 'final' && info.streamId && this.#streams.has(info.streamId)) {
          return this.#streamFinal(activity, info.streamId);
        }
        return this.#message(activity);
      case 'delay':
        await sleep(typeof activity.value === 'number' ? activity.value : 1000);
        return { id: '' };
      default:
        // trace, event, invokeResponse, endOfConversation…: nothing to show on these clouds.
        return { id: '' };
    }
  }

  /** Replaces the text of a sent message (`activity.id`), where the cloud can. */
  async update(activity: ActivityLike): Promise<void> {
    if (!this.#platform.updateText)
      throw new NotSupportedError(`${this.#platform.name} cannot edit a sent message`);
    if (!activity.id)
      throw new ValidationError('activity.id', 'updateActivity needs the id of the message to edit');
    await this.#platform.updateText(this.#target(activity), activity.id, activityToText(activity));
  }

  /** Recalls a sent message (`reference.activityId`), where the cloud can. */
  async delete(reference: ConversationReferenceLike): Promise<void> {
    if (!this.#platform.deleteMessage)
      throw new NotSupportedError(`${this.#platform.name} cannot recall a sent message`);
    if (!reference.activityId)
      throw new ValidationError(
        'reference.activityId',
        'deleteActivity needs the id of the message to recall',
      );
    await this.#platform.deleteMessage(this.#target(reference), reference.activityId);
  }

  /** The turn is over: streams it left open are finished with what they were given. */
  async endTurn(turn: TurnScope): Promise<void> {
    await Promise.all(
      [...turn.streams].map(async (id) => {
        const state = this.#streams.get(id);
        this.#streams.delete(id);
        if (state?.session && !state.session.closed) await state.session.end();
      }),
    );
  }

  /** A message activity: its text, cards, images and files, each as the cloud's own message. */
  async #message(activity: ActivityLike): Promise<{ id: string }> {
    const target = this.#target(activity);
    let id = '';
    for (const message of activityToMessages(activity)) {
      const sent =
        message.type === 'text'
          ? await this.#platform.sendText(target, message.text)
          : await this.#platform.sendMessage(target, message);
      id = sent.messageId;
    }
    return { id };
  }

  /** Where an outgoing activity goes, @-mentioning the user it answers in a group if so set. */
  #target(activity: ActivityLike | ConversationReferenceLike): ReplyTarget {
    return targetOf(activity, { mentionUser: this.#mentionSender });
  }

  /**
   * A streamed update: cumulative text, of which the part the user has not seen yet is written to the
   * stream session. Informative updates ("Searching…") have no place in these clouds' messages: they
   * name what runs in the typing signal, and reserve the stream id.
   */
  #streamUpdate(
    activity: ActivityLike,
    turn: TurnScope,
    streamId: string | undefined,
    streamType: string | undefined,
  ): { id: string } {
    const id = streamId ?? randomUUID();
    let state = this.#streams.get(id);
    if (!state) {
      state = { target: this.#target(activity), shown: '', diverged: false };
      this.#streams.set(id, state);
      turn.streams.add(id);
    }
    // An interrupted answer shows no more text: its stream was closed for the user's newer message.
    if (streamType === 'informative' || state.diverged || turn.reply?.signal.aborted) return { id };
    const text = activity.text ?? '';
    if (!text.startsWith(state.shown)) {
      state.diverged = true;
      return { id };
    }
    const delta = text.slice(state.shown.length);
    if (delta === '') return { id };
    if (state.session?.closed) {
      // Closed under the stream (the bot paused past idleTimeoutMs): the user sees that message
      // finished, the rest goes in a new one, and the turn is told when the stream ends.
      state.broken ??= new StreamClosedError(
        'the streamed reply was closed before it ended (no text within idleTimeoutMs); the rest went in a new message',
      );
      delete state.session;
    }
    const session =
      state.session ??
      (turn.reply
        ? turn.reply.stream(this.#streamOptions)
        : this.#platform.openStream(state.target, this.#streamOptions));
    state.session = session;
    session.write(delta);
    state.shown = text;
    return { id };
  }

  /** The closing `message` of a stream: the rest of the text, then the stream is finished. */
  async #streamFinal(activity: ActivityLike, streamId: string): Promise<{ id: string }> {
    const state = this.#streams.get(streamId) as StreamState;
    this.#streams.delete(streamId);
    const text = activity.text ?? state.shown;
    if (!state.diverged && text.startsWith(state.shown) && state.session) {
      const result = await state.session.end(text.slice(state.shown.length) || undefined);
      if (result.undelivered !== '')
        throw result.error ?? new ImbotError('STREAM_FAILED', 'the streamed reply was not delivered');
    } else {
      // Nothing was streamed, or the bot rewrote what it had streamed: close, and send the final text plain.
      if (state.session) await state.session.end();
      if (text !== '') await this.#platform.sendText(state.target, text);
    }
    if (activity.attachments?.length) await this.#message({ ...activity, text: '' });
    if (state.broken) throw state.broken;
    return { id: streamId };
  }
}

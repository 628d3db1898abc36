import { randomUUID } from 'node:crypto';
import { ImbotError, StoppedError } from '../errors.js';
import type { Logger } from '../observe/logger.js';
import type { Conversation, InboundMessage } from '../platform.js';
import type { AnswerRun } from './answer-run.js';
import type { Middleware } from './middleware.js';

/** The messages that stop an answer unless `stopWords` says otherwise. */
export const DEFAULT_STOP_WORDS: readonly string[] = ['/stop', '停止'];

/**
 * A stop as one replica tells the others: who asked, in which conversation, whether they may stop
 * any answer there, and when it was received. JSON, so that any channel can carry it.
 */
export interface StopRequest {
  id: string;
  platform: string;
  botId: string;
  from: string;
  conversation: Conversation;
  /** The sender is one of `stopAdmins` in a group: every answer of the bot there stops. */
  admin: boolean;
  /** Milliseconds since the epoch when the stop was received. */
  at: number;
  /**
   * The bot's message the stop names (TUIKit's Stop sends the `msgKey` of the message it is pressed
   * on): only the answer that wrote it stops, and none when it names a finished or unknown one.
   */
  messageId?: string;
}

/**
 * How a stop reaches the replica running the answer it stops (`RedisStopChannel` in `@imbot/redis`):
 * the receiver that gets a stop applies it to its own answers and publishes it; every other receiver
 * subscribed applies it to theirs. Without one, a stop works in the process that receives it.
 */
export interface StopChannel {
  /** Tells every other subscriber; rejects when the stop could not be sent. */
  publish(stop: StopRequest): Promise<void>;
  /** Hands each stop another receiver published to `deliver`; the function returned stops that. */
  subscribe(deliver: (stop: StopRequest) => void): () => void;
}

/** How stops are recognised and whom they may stop. */
export interface StopOptions {
  /** Exact, trimmed texts that stop (a group's leading @-mention aside). Default `DEFAULT_STOP_WORDS`. */
  words?: readonly string[] | undefined;
  /** Users who may stop any answer in a group. Default none. */
  admins?: readonly string[] | undefined;
  /** Written at the end of a stopped answer's message. Default `' (stopped)'`. */
  marker?: string | undefined;
  /** Where stops go to reach other replicas. Default: this process only. */
  channel?: StopChannel | undefined;
}

/**
 * An answer started this long after a stop's time (on another replica's clock) may still be one the
 * stop is for; one started later than that is newer than the stop and goes on.
 */
const CLOCK_SLACK_MS = 2000;

/**
 * The stop middleware: a stop word (or the cloud's own interrupt message) stops the answers its
 * sender may stop, at once, whichever lane they wait in, here and (through `channel`) on every
 * other replica, and goes no further. In a one-to-one chat that is the bot's answer to its sender;
 * in a group, the answer to the sender's own message, or every answer of the bot there when the
 * sender is an admin. Each ends with the text shown so far and the marker. A stop the channel could
 * not take fails the request, so that the cloud delivers it again.
 */
export function stopAnswers(options: StopOptions = {}): Middleware {
  const words = new Set((options.words ?? DEFAULT_STOP_WORDS).map((word) => word.trim()));
  const admins = new Set(options.admins ?? []);
  const marker = options.marker ?? ' (stopped)';
  return async (context, next) => {
    const { message } = context;
    if (message.stop !== true && !words.has(message.text.trim())) return next();
    const stop = stopRequestOf(message, message.conversation.type === 'group' && admins.has(message.from));
    applyStop(context.running(), stop, marker, context.logger);
    if (!options.channel) return;
    try {
      await options.channel.publish(stop);
    } catch (error) {
      throw new ImbotError('STOPS_UNAVAILABLE', 'the stop could not be sent to the other replicas', {
        cause: error,
      });
    }
  };
}

/** The stop `message` asks for. */
export function stopRequestOf(message: InboundMessage, admin: boolean): StopRequest {
  return {
    id: randomUUID(),
    platform: message.platform,
    botId: message.botId,
    from: message.from,
    conversation: message.conversation,
    admin,
    at: Date.now(),
    ...(message.stopMessageId !== undefined ? { messageId: message.stopMessageId } : {}),
  };
}

/** Stops the answers among `runs` that `stop` may stop; resolves how many it stopped. */
export function applyStop(
  runs: Iterable<AnswerRun>,
  stop: StopRequest,
  marker: string,
  logger: Logger,
): number {
  const reason = new StoppedError(stop.from);
  let stopped = 0;
  for (const run of runs) {
    if (!stoppableBy(run, stop)) continue;
    run.stop(reason, marker);
    stopped++;
  }
  logger.debug({ platform: stop.platform, botId: stop.botId, from: stop.from, stopped }, 'imbot: stop');
  return stopped;
}

/**
 * Whether `stop` may stop `run`: the same bot and conversation, the asker's answer (or an admin's
 * stop), not newer than the stop; and, when the stop names a message, the answer that wrote it.
 */
export function stoppableBy(run: AnswerRun, stop: StopRequest): boolean {
  const mine = run.message;
  if (mine.platform !== stop.platform || mine.botId !== stop.botId) return false;
  if (stop.messageId !== undefined && !run.wrote(stop.messageId)) return false;
  if (run.startedAt > stop.at + CLOCK_SLACK_MS) return false;
  if (mine.conversation.type === 'c2c' || stop.conversation.type === 'c2c')
    return mine.conversation.type === stop.conversation.type && mine.from === stop.from;
  return mine.conversation.groupId === stop.conversation.groupId && (stop.admin || mine.from === stop.from);
}

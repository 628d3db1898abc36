import { StoppedError } from '../errors.js';
import type { InboundMessage } from '../platform.js';
import type { AnswerRun } from './answer-run.js';
import type { Middleware } from './middleware.js';

/** The messages that stop an answer unless `stopWords` says otherwise. */
export const DEFAULT_STOP_WORDS: readonly string[] = ['/stop', '停止'];

/** How stops are recognised and whom they may stop. */
export interface StopOptions {
  /** Exact, trimmed texts that stop (a group's leading @-mention aside). Default `DEFAULT_STOP_WORDS`. */
  words?: readonly string[] | undefined;
  /** Users who may stop any answer in a group. Default none. */
  admins?: readonly string[] | undefined;
  /** Written at the end of a stopped answer's message. Default `' (stopped)'`. */
  marker?: string | undefined;
}

/**
 * The stop middleware: a stop word (or the cloud's own interrupt message) stops the answers its
 * sender may stop, at once, whichever lane they wait in, and goes no further. In a one-to-one chat
 * that is the bot's answer to its sender; in a group, the answer to the sender's own message, or
 * every answer of the bot there when the sender is an admin. Each ends with the text shown so far
 * and the marker.
 */
export function stopAnswers(options: StopOptions = {}): Middleware {
  const words = new Set((options.words ?? DEFAULT_STOP_WORDS).map((word) => word.trim()));
  const admins = new Set(options.admins ?? []);
  const marker = options.marker ?? ' (stopped)';
  return (context, next) => {
    const { message } = context;
    if (message.stop !== true && !words.has(message.text.trim())) return next();
    const admin = message.conversation.type === 'group' && admins.has(message.from);
    const reason = new StoppedError(message.from);
    let stopped = 0;
    for (const run of context.running()) {
      if (!stoppableBy(run, message, admin)) continue;
      run.stop(reason, marker);
      stopped++;
    }
    context.logger.debug(
      { platform: message.platform, botId: message.botId, from: message.from, stopped },
      'imbot: stop',
    );
    return undefined;
  };
}

/** Whether `stop` may stop `run`; `admin`: its sender may stop any answer in its group. */
export function stoppableBy(run: AnswerRun, stop: InboundMessage, admin: boolean): boolean {
  const mine = run.message;
  if (mine.botId !== stop.botId) return false;
  if (mine.conversation.type === 'c2c' || stop.conversation.type === 'c2c')
    return mine.conversation.type === stop.conversation.type && mine.from === stop.from;
  return mine.conversation.groupId === stop.conversation.groupId && (admin || mine.from === stop.from);
}

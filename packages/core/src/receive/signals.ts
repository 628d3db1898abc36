import type { InboundMessage } from '../platform.js';
import type { Reply } from './answer-run.js';
import type { Middleware } from './middleware.js';

/** A pass-through signal from a user's client (Tencent `Chatbot.OnC2CSignalMessage`). */
export interface Signal {
  botId: string;
  from: string;
  /** The signal's data, as the client sent it (a string; often JSON). */
  data: string;
  messageKey: string;
  time: Date;
  raw: unknown;
}

/**
 * Answers a signal: the result goes back to the cloud in the callback's answer (`RspData`); a
 * string as it is, anything else as JSON, `undefined` for "not handled". The cloud waits 2 s.
 */
export type SignalHandler = (signal: Signal, reply: Reply) => unknown;

/**
 * The signal middleware: a signal (`message.signal`) is answered by `onSignal` within the callback
 * and goes no further; unhandled (no `onSignal`, an `undefined` result, or a failure, reported) it
 * is acknowledged as not handled, as the cloud's document asks (`ErrorCode: 1`, doc 269/103730).
 */
export function answerSignals(onSignal: SignalHandler | undefined): Middleware {
  return async (context, next) => {
    const { message, platform } = context;
    if (message.signal !== true) return next();
    if (!platform.signalAnswer) return;
    let result: unknown;
    try {
      result = onSignal ? await onSignal(signalOf(message), context.reply) : undefined;
    } catch (error) {
      context.report(error);
      result = undefined;
    }
    const rspData = result === undefined || typeof result === 'string' ? result : JSON.stringify(result);
    context.respond(platform.signalAnswer(rspData));
  };
}

function signalOf(message: InboundMessage): Signal {
  return {
    botId: message.botId,
    from: message.from,
    data: message.text,
    messageKey: message.messageKey,
    time: message.time,
    raw: message.raw,
  };
}

import type { InboundMessage } from '../platform.js';
import type { Middleware } from './middleware.js';

/** The questions a bot greets a user with: a title and the items they can tap. */
export interface Welcome {
  title: string;
  items: string[];
}

/** `welcome` as receivers take it: the questions, or a function of the user choosing them (none: no card). */
export type WelcomeOption =
  | Welcome
  | ((userId: string, message: InboundMessage) => Welcome | undefined | Promise<Welcome | undefined>);

/**
 * The greeting middleware: a client's greeting on opening the bot's chat (TUIKit's legacy robot
 * plugin sends `{chatbotPlugin: 1, src: 7}` then, notes/tuikit-protocol.md §4) is answered with the
 * `welcome` questions, if any, and goes no further: it is not a user message, and no handler sees it.
 * One call, made before the cloud's answer; a failure is reported, and the greeting is not retried.
 */
export function greetUsers(welcome: WelcomeOption | undefined): Middleware {
  return async (context, next) => {
    const { message } = context;
    if (message.greeting !== true) return next();
    if (!welcome) return;
    try {
      const questions = typeof welcome === 'function' ? await welcome(message.from, message) : welcome;
      if (questions) await context.reply.questions({ kind: 'welcome', ...questions });
    } catch (error) {
      context.report(error);
    }
  };
}

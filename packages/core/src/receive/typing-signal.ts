import type { Middleware } from './middleware.js';

/**
 * The typing middleware of a turn: the cloud's "typing…" from the moment the handler starts until
 * the answer's first text, stopped when the turn ends at the latest. Where the cloud's clients show
 * no signal (groups) there is none.
 */
export function typingSignal(): Middleware {
  return async (context, next) => {
    const typing = context.platform.typing?.(context.reply.target);
    context.reply.useTyping(typing);
    typing?.start();
    try {
      await next();
    } finally {
      typing?.stop();
    }
  };
}

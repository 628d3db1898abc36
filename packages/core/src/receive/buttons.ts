import type { Middleware } from './middleware.js';

/**
 * The button middleware: a card button press reaches the handler only if the platform signed its
 * value for this bot and conversation (`platform.buttons`), with the value as the bot sent it in
 * `message.action.value` and `message.text`. A press that fails the check is reported as a
 * `ButtonPressRefusedError` and dropped. A client made with `buttons: 'raw'` lets presses through
 * as they come.
 */
export function verifyButtonPresses(): Middleware {
  return async (context, next) => {
    const { message } = context;
    const signer = context.platform.buttons;
    if (message.action === undefined || signer === undefined) return next();
    const opened = await signer.open(message as typeof message & { action: { value: string } });
    if (typeof opened !== 'string') {
      context.report(opened);
      return undefined;
    }
    message.action = { ...message.action, value: opened };
    message.text = opened;
    return next();
  };
}

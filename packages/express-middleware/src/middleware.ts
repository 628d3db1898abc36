import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type BotPlatform,
  type BotSpec,
  type EnsureBotsReport,
  ensureBots,
  ImbotError,
  type InboundMessage,
  isTransient,
  type NodeRequestLike,
  type ReplyTarget,
  readNodeRequest,
  type StreamSession,
  type StreamSessionOptions,
  validateBotSpecs,
  type WebhookEvent,
  WebhookReceiver,
  WebhookVerificationError,
  withRetry,
} from '@imbot/core';

/** What a message handler gets to answer with. */
export interface Reply {
  /** Where the answer goes: the sender of a one-to-one message, or the group. */
  readonly target: ReplyTarget;
  /** Sends a plain text message as the bot; resolves with its id. */
  text(text: string): Promise<{ messageId: string }>;
  /** Opens a stream session to the sender or the group: the answer grows as you write it. */
  stream(options?: StreamSessionOptions): StreamSession;
}

export interface ImbotOptions {
  /** The cloud: `new TencentIm(...).platform` or `new RongCloud(...).platform`. */
  platform: BotPlatform;
  /** The app's bots: made to exist and match at start-up. Only messages to them are handled. */
  bots: BotSpec[];
  /** Called for every new user message to one of the bots, after the cloud has been answered. */
  onMessage: (message: InboundMessage, reply: Reply) => unknown;
  /** Refused webhook requests, handler errors and start-up failures. Default: `next(err)` / console.error. */
  onError?: (error: Error, context: { message?: InboundMessage }) => void;
  /** Callbacks that are not user messages (other `CallbackCommand`s), passed through. */
  onEvent?: (event: WebhookEvent) => void;
  webhook?: {
    /** Path of the webhook route, under where the router is mounted. Default `/webhook`. */
    path?: string;
    /** The callback token set in the cloud's console (Tencent). */
    token?: string;
    /** Larger bodies are refused with 413. Default 1 MiB. */
    maxBodyBytes?: number;
  };
  /** Path of the health route: 503 until the bots are ensured, 200 after. Default `/health`. */
  healthPath?: string;
  /** `prune`: delete the app's undeclared bots at start-up. `retries` of transient failures (default 8). */
  ensure?: { prune?: boolean; retries?: number };
  /** Defaults for every `reply.stream()`. */
  stream?: StreamSessionOptions;
}

/** A request handler to mount with `app.use()`, with the start-up report and a graceful stop. */
export interface ImbotRouter {
  (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void;
  /** Resolves with what `ensureBots` did once the bots exist and match; rejects if it failed for good. */
  readonly ready: Promise<EnsureBotsReport>;
  /** Stops taking messages (503), waits for running handlers, then finishes open streams. */
  close(): Promise<void>;
}

type State = 'starting' | 'ready' | 'failed' | 'closing';

function send(res: ServerResponse, status: number, body: unknown, contentType = 'application/json'): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * Express middleware for one cloud's bots. At creation it checks the bot specs (a bad one throws
 * at once, before the app serves anything) and starts `ensureBots`, retrying transient failures.
 * Its webhook route reads the raw body itself, verifies the request, answers the cloud at once and
 * only then runs `onMessage`, so a slow handler never makes the cloud wait or redeliver.
 * Redeliveries, messages from the bots themselves and group messages that do not @-mention a bot
 * never reach the handler. Works with Express 4 and 5 (and plain `node:http`).
 *
 * @example
 * app.use('/im', imbot({
 *   platform: im.platform,
 *   bots: [{ userId: '@RBT#helper', name: 'Helper' }],
 *   webhook: { token: process.env.TIM_CALLBACK_TOKEN },
 *   onMessage: async (message, reply) => reply.stream().end(`You said: ${message.text}`),
 * }));
 */
export function imbot(options: ImbotOptions): ImbotRouter {
  const { platform } = options;
  const bots = validateBotSpecs(platform, options.bots);
  const receiver = new WebhookReceiver({
    platform,
    botIds: bots.map((b) => b.userId),
    token: options.webhook?.token,
  });
  const webhookPath = options.webhook?.path ?? '/webhook';
  const healthPath = options.healthPath ?? '/health';
  const maxBodyBytes = options.webhook?.maxBodyBytes ?? 1024 * 1024;
  const running = new Set<Promise<void>>();
  const sessions = new Set<StreamSession>();
  let state: State = 'starting';
  let report: EnsureBotsReport | undefined;
  let failure: unknown;

  const reportError = (error: unknown, message?: InboundMessage) => {
    const err = error instanceof Error ? error : new ImbotError('HANDLER_FAILED', String(error));
    if (options.onError) options.onError(err, message ? { message } : {});
    else console.error('[imbot]', err);
  };

  const ready = withRetry(
    () => ensureBots(platform, bots, { prune: options.ensure?.prune ?? false }),
    (error) => (isTransient(error) ? 'retry' : 'stop'),
    { retries: options.ensure?.retries ?? 8, minDelayMs: 500, maxDelayMs: 30_000 },
  ).then(
    (result) => {
      if (state === 'starting') state = 'ready';
      report = result;
      return result;
    },
    (error: unknown) => {
      if (state === 'starting') state = 'failed';
      failure = error;
      reportError(error);
      throw error;
    },
  );
  // The app may never await `ready`; its failure has been reported above.
  ready.catch(() => undefined);

  const reject = (error: WebhookVerificationError, res: ServerResponse, next: (error?: unknown) => void) => {
    if (!options.onError) return next(error);
    send(res, error.status, { error: error.code, problem: error.problem, message: error.message });
    options.onError(error, {});
  };

  const run = async (message: InboundMessage): Promise<void> => {
    const target: ReplyTarget =
      message.conversation.type === 'group'
        ? { botId: message.botId, groupId: message.conversation.groupId }
        : { botId: message.botId, userId: message.from };
    const opened: StreamSession[] = [];
    const reply: Reply = {
      target,
      text: (text) => platform.sendText(target, text),
      stream: (streamOptions) => {
        const session = platform.openStream(target, { ...options.stream, ...streamOptions });
        opened.push(session);
        sessions.add(session);
        session.once('finish', () => sessions.delete(session));
        return session;
      },
    };
    try {
      await options.onMessage(message, reply);
    } catch (error) {
      reportError(error, message);
      await Promise.all(opened.filter((s) => !s.closed).map((s) => s.abort(error)));
    }
  };

  const receive = async (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => {
    if (state === 'closing') return send(res, 503, { error: 'shutting down' });
    let accepted: ReturnType<WebhookReceiver['accept']>;
    try {
      accepted = receiver.accept(
        await readNodeRequest(req as IncomingMessage & NodeRequestLike, maxBodyBytes),
      );
    } catch (error) {
      if (error instanceof WebhookVerificationError) return reject(error, res, next);
      return next(error);
    }
    const answer = receiver.answer;
    send(res, answer.status, answer.body, answer.contentType);
    // The cloud has its answer; the handlers run from the next turn of the event loop, tracked from
    // now on so that close() waits for them too.
    const task = new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
      for (const event of accepted.events) {
        try {
          options.onEvent?.(event);
        } catch (error) {
          reportError(error);
        }
      }
      await Promise.all(accepted.messages.map(run));
    });
    running.add(task);
    void task.finally(() => running.delete(task));
  };

  const router = ((req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === healthPath && req.method === 'GET') {
      if (state === 'ready') return send(res, 200, { status: 'ready', bots: report });
      const error = state === 'failed' ? { error: (failure as Error)?.message } : {};
      return send(res, 503, { status: state, ...error });
    }
    if (path !== webhookPath) return next();
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      return send(res, 405, { error: 'the webhook takes POST only' });
    }
    void receive(req, res, next);
  }) as ImbotRouter;

  Object.defineProperty(router, 'ready', { value: ready });
  router.close = async () => {
    state = 'closing';
    await Promise.allSettled([...running]);
    await Promise.all([...sessions].map((session) => session.abort('closing')));
  };
  return router;
}

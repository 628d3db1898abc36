import * as z from 'zod';
import {
  ImbotError,
  NotHandledError,
  StoppedError,
  ValidationError,
  WebhookVerificationError,
} from '../errors.js';
import type { RichMessage } from '../message/rich.js';
import { type Logger, loggerOption } from '../observe/logger.js';
import type { BotPlatform, InboundMessage, ReplyTarget, WebhookEvent, WebhookRequest } from '../platform.js';
import type { StreamSession, StreamSessionOptions } from '../stream/session.js';
import type { TypingIndicator } from '../stream/typing.js';
import { parseInput } from '../validation.js';
import { refusalAnswer, shuttingDown, type WebhookAnswer } from './answer.js';
import type { Inbox } from './inbox.js';
import { type Concurrency, Lanes, type Run } from './lanes.js';
import { MemorySeenStore, type SeenStore } from './seen.js';

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
  /** Sends a plain text message as the bot; resolves with its id. */
  text(text: string): Promise<{ messageId: string }>;
  /** Sends an image, a file or a card (or text) as the bot; resolves with its id. */
  send(message: RichMessage): Promise<{ messageId: string }>;
  /** Opens a stream session to the sender or the group: the answer grows as you write it. */
  stream(options?: StreamSessionOptions): StreamSession;
}

/** Handles one new user message to one of the bots, after the cloud has had its answer. */
export type MessageHandler = (message: InboundMessage, reply: Reply) => unknown;

/** Where failures the cloud's answer cannot carry go: handler errors, refusals, dropped messages. */
export type ErrorReporter = (error: Error, context: { message?: InboundMessage }) => void;

/** How webhook requests are read and checked. */
export interface WebhookOptions {
  /** Path of the webhook route, where the entry routes requests itself. Default `/webhook`. */
  path?: string;
  /**
   * The Tencent callback token.
   * @deprecated Give it to the client: `new TencentIm({ ..., callbackToken })`.
   */
  token?: string;
  /** Larger bodies are refused with 413. Default 1 MiB. */
  maxBodyBytes?: number;
  /** A body not complete this long after its headers is refused with 408. Default 10 s. */
  bodyTimeoutMs?: number;
  /** How far a request's signed time may be from now, either way. Default 60 s. */
  toleranceSeconds?: number;
  /** How long a message key is remembered to drop redeliveries. Default 10 minutes. */
  dedupeTtlMs?: number;
}

export interface WebhookPipelineOptions {
  /** The cloud: `new TencentIm(…).platform` or `new RongCloud(…).platform`. */
  platform: BotPlatform;
  /**
   * The bots whose messages are handled. Default: every bot of the app a message is addressed to.
   * Messages sent by the app's bots are ignored either way.
   */
  bots?: readonly string[] | undefined;
  /**
   * Called for every new user message to one of the bots, after the cloud has been answered. An
   * entry that brings its own handler per request (the Bot Framework adapter's `logic`) leaves it out.
   */
  onMessage?: MessageHandler | undefined;
  /** Callbacks that are not user messages, passed through. */
  onEvent?: ((event: WebhookEvent) => void) | undefined;
  /** Refusals, handler errors, messages left unhandled at close. Default: the logger, or `console.error`. */
  onError?: ErrorReporter | undefined;
  /**
   * A pino-compatible logger: each message in at debug level, refusals at warn, failures at error
   * (also when `onError` is given). Never a secret. Default: none (failures go to `console.error`).
   */
  logger?: Logger | undefined;
  webhook?: WebhookOptions | undefined;
  /**
   * Accept callbacks the cloud does not sign (Tencent with no callback token). Without it such a
   * receiver refuses to start; with it, it warns once.
   */
  unsignedWebhooks?: boolean | undefined;
  /** Where delivered message keys and RongCloud nonces are remembered. Default: this process's memory. */
  seen?: SeenStore | undefined;
  /**
   * Durable inbound work across replicas (`new RedisInbox(…)`): each accepted message is recorded
   * before the cloud is answered and handled by whichever replica takes it. Needs `onMessage`.
   */
  inbox?: Inbox | undefined;
  /** When a user writes while the bot is still answering them. Default `'queue'`. */
  concurrency?: Concurrency | undefined;
  /** Defaults for every `reply.stream()`. */
  stream?: StreamSessionOptions | undefined;
  /**
   * Tell the user the bot is typing from the moment the handler starts until the answer's first
   * text (one-to-one chats). Default true; each signal is made only when it costs text nothing.
   */
  typing?: boolean | undefined;
  /**
   * Messages that stop the answer in progress instead of reaching the handler: exact, trimmed (a
   * group's leading @-mention aside). Default `['/stop', '停止']`; `[]` turns stop words off (the
   * interrupt message of Tencent's AI robots still stops).
   */
  stopWords?: readonly string[] | undefined;
  /**
   * Users who may stop any answer in a group; everyone else stops only the answer to their own
   * message. Default none.
   */
  stopAdmins?: readonly string[] | undefined;
  /** Written at the end of a stopped answer's message. Default `' (stopped)'`; `''` for none. */
  stopMarker?: string | undefined;
  /**
   * Whether replies in a group @-mention the user they answer (who @-mentioned the bot to get
   * there), so the user's client notifies them. Default true.
   */
  mentionSender?: boolean | undefined;
  /** Clock in milliseconds since the epoch; injectable for tests. */
  now?: (() => number) | undefined;
}

/** What `receive` gives back: the answer to write now, and the handling that follows it. */
export interface Receipt {
  answer: WebhookAnswer;
  /** Settles when every message of the request has been handled (never rejects). */
  handled: Promise<void>;
}

const fn = (what: string) => z.custom<(...args: never[]) => unknown>((v) => typeof v === 'function', what);

/** A `BotPlatform`, told apart from a client given by mistake. */
export const platformSchema = z.custom<BotPlatform>(
  (v) =>
    typeof v === 'object' &&
    v !== null &&
    typeof (v as BotPlatform).verifyWebhook === 'function' &&
    typeof (v as BotPlatform).openStream === 'function',
  'must be a BotPlatform: new TencentIm(…).platform or new RongCloud(…).platform',
);

/** The `webhook` options every entry takes. */
export const webhookOptionsSchema = z.strictObject({
  path: z.string().regex(/^\//, 'must start with "/", like "/webhook"').optional(),
  token: z.string().min(1, 'must not be empty').optional(),
  maxBodyBytes: z.number().int().min(1024).optional(),
  bodyTimeoutMs: z.number().int().positive().optional(),
  toleranceSeconds: z.number().int().positive().optional(),
  dedupeTtlMs: z.number().int().positive().optional(),
});

/** The options shared by every entry into the pipeline (checked before anything starts). */
export const pipelineOptionsShape = {
  platform: platformSchema,
  onEvent: fn('must be a function (event) => void').optional(),
  onError: fn('must be a function (error, context) => void').optional(),
  logger: loggerOption.optional(),
  webhook: webhookOptionsSchema.optional(),
  unsignedWebhooks: z.boolean().optional(),
  seen: z
    .custom<SeenStore>(
      (v) => typeof (v as SeenStore | undefined)?.remember === 'function',
      'must be a SeenStore: an object with remember(key, ttlMs)',
    )
    .optional(),
  inbox: z
    .custom<Inbox>(
      (v) =>
        ['add', 'start', 'close'].every(
          (name) => typeof (v as Record<string, unknown>)?.[name] === 'function',
        ),
      'must be an Inbox (add, start, close), such as new RedisInbox(…)',
    )
    .optional(),
  concurrency: z.enum(['queue', 'interrupt', 'concurrent']).optional(),
  stream: z.record(z.string(), z.unknown()).optional(),
  mentionSender: z.boolean().optional(),
  typing: z.boolean().optional(),
  stopWords: z.array(z.string().trim().min(1, 'a stop word must not be empty')).optional(),
  stopAdmins: z.array(z.string().min(1, 'must not be empty')).optional(),
  stopMarker: z.string().optional(),
  now: fn('must be a function () => number').optional(),
};

/** The messages that stop an answer unless `stopWords` says otherwise. */
export const DEFAULT_STOP_WORDS: readonly string[] = ['/stop', '停止'];

const pipelineOptions = z
  .object({
    ...pipelineOptionsShape,
    bots: z.array(z.string()).min(1, 'name at least one bot, or leave bots out').optional(),
    onMessage: fn('must be a function (message, reply) => …').optional(),
  })
  .refine((o) => o.inbox === undefined || o.onMessage !== undefined, {
    message: 'an inbox hands messages to onMessage on any replica: give onMessage',
    path: ['inbox'],
  });

/**
 * The options of a framework adapter (Bot Framework, Agents SDK): the pipeline's, with `bots` as
 * ids or specs, optional, and no `onMessage` (the adapter's `logic` comes with each request).
 */
export const adapterOptionsSchema = z.object({
  ...pipelineOptionsShape,
  inbox: z
    .undefined({ error: "an adapter's logic comes with each request: an inbox cannot be used" })
    .optional(),
  bots: z
    .array(
      z.union([z.string(), z.looseObject({ userId: z.string() })], {
        error: 'must be a bot id or a bot spec { userId }',
      }),
    )
    .min(1, 'name at least one bot, or leave bots out to answer for every bot of the app')
    .optional(),
});

let warnedUnsigned = false;

const noHandler: MessageHandler = () => {
  throw new NotHandledError('no onMessage handler was given for this message');
};

/**
 * The one way in for webhooks, whatever the framework: request → verify (signature, freshness, app)
 * → replay check → parse → addressed to the app's bots and not sent by them → first delivery (a
 * `SeenStore`) → answer → handling after the answer, per conversation under the `concurrency` policy.
 * The Express middleware, the web-standard handler and the Bot Framework adapter are thin entries
 * into it: they read a request, write the answer, and nothing more.
 */
export class WebhookPipeline {
  readonly platform: BotPlatform;
  readonly #options: WebhookPipelineOptions;
  readonly #bots: ReadonlySet<string> | undefined;
  readonly #seen: SeenStore;
  readonly #lanes: Lanes;
  readonly #now: () => number;
  readonly #dedupeTtlMs: number;
  readonly #stopWords: ReadonlySet<string>;
  readonly #stopAdmins: ReadonlySet<string>;
  #closing: Promise<void> | undefined;

  /** Checks the options (a `ValidationError` names the one that is wrong) and the webhook's security. */
  constructor(options: WebhookPipelineOptions) {
    parseInput(pipelineOptions, options, 'options');
    this.platform = options.platform;
    this.#options = options;
    this.#bots = options.bots
      ? new Set(options.bots.map((id, i) => this.platform.validateBotSpec({ userId: id }, i).userId))
      : undefined;
    this.#seen = options.seen ?? new MemorySeenStore();
    this.#lanes = new Lanes(options.concurrency ?? 'queue');
    this.#now = options.now ?? Date.now;
    this.#dedupeTtlMs = options.webhook?.dedupeTtlMs ?? 10 * 60_000;
    this.#stopWords = new Set((options.stopWords ?? DEFAULT_STOP_WORDS).map((word) => word.trim()));
    this.#stopAdmins = new Set(options.stopAdmins ?? []);
    options.inbox?.start((message) => this.#deliver(message, this.#options.onMessage ?? noHandler));
    const signed = this.platform.signsWebhooks || options.webhook?.token !== undefined;
    if (!signed && options.unsignedWebhooks !== true) {
      throw new ValidationError(
        'callbackToken',
        `callbackToken: ${this.platform.name} callbacks are unsigned without it, so anyone could post ` +
          'messages as your users. Set a callback token in the Chat console and give it to the client ' +
          '(new TencentIm({ ..., callbackToken })), or pass unsignedWebhooks: true to accept unsigned callbacks',
      );
    }
    if (!signed && !warnedUnsigned) {
      warnedUnsigned = true;
      process.emitWarning(
        `imbot accepts unsigned ${this.platform.name} callbacks (unsignedWebhooks: true): anyone who ` +
          'finds the webhook URL can post messages as your users',
        { code: 'IMBOT_UNSIGNED_WEBHOOKS' },
      );
    }
  }

  /** The logger given in the options, if any. */
  get logger(): Logger | undefined {
    return this.#options.logger;
  }

  /** What an entry needs of the body limits. */
  get bodyLimits(): { maxBytes: number; timeoutMs: number } {
    return {
      maxBytes: this.#options.webhook?.maxBodyBytes ?? 1024 * 1024,
      timeoutMs: this.#options.webhook?.bodyTimeoutMs ?? 10_000,
    };
  }

  /** True once `close()` was called: requests are answered 503. */
  get closing(): boolean {
    return this.#closing !== undefined;
  }

  /** Messages being handled or waiting for their turn. */
  get pending(): number {
    return this.#lanes.pending;
  }

  /**
   * Takes one request through the pipeline. Resolves with the answer to write at once (a refusal
   * runs nothing); the messages it accepted are handled from the next turn of the event loop, after
   * the entry has written the answer. `onMessage` replaces the handler for this request's messages.
   */
  async receive(request: WebhookRequest, onMessage?: MessageHandler): Promise<Receipt> {
    if (this.#closing) return { answer: shuttingDown(), handled: Promise.resolve() };
    let accepted: InboundMessage[];
    let events: WebhookEvent[];
    try {
      ({ messages: accepted, events } = await this.#accept(request));
    } catch (error) {
      return { answer: this.refuse(error), handled: Promise.resolve() };
    }
    // A stop does not wait in the conversation's queue: it interrupts the answer now, and goes no further.
    const messages: InboundMessage[] = [];
    for (const message of accepted) {
      if (message.stop === true || this.#stopWords.has(message.text.trim())) this.#stop(message);
      else messages.push(message);
    }
    const { status, contentType, body } = this.platform.webhookAnswer;
    const answer = { status, headers: { 'content-type': contentType }, body };
    const inbox = this.#options.inbox;
    if (inbox) {
      // Recorded before the cloud hears back; a replica takes it from there.
      try {
        await Promise.all(messages.map((message) => inbox.add(message)));
      } catch (error) {
        await Promise.all(messages.map((message) => this.#seen.forget?.(this.#messageKey(message))));
        return {
          answer: this.refuse(
            new ImbotError('INBOX_UNAVAILABLE', 'the message could not be recorded', { cause: error }),
          ),
          handled: Promise.resolve(),
        };
      }
      return { answer, handled: Promise.resolve() };
    }
    const handle = onMessage ?? this.#options.onMessage ?? noHandler;
    const handled = new Promise<void>((resolve) => setImmediate(resolve)).then(() =>
      this.#dispatch(messages, events, handle),
    );
    return { answer, handled };
  }

  /** The answer to a failed request, reported to `onError`: its refusal, or 500 for anything else. */
  refuse(error: unknown): WebhookAnswer {
    const err =
      error instanceof ImbotError
        ? error
        : new ImbotError(
            'WEBHOOK_FAILED',
            `receiving the webhook failed: ${(error as Error)?.message ?? error}`,
            {
              cause: error,
            },
          );
    this.report(err);
    return refusalAnswer(err);
  }

  /**
   * Stops taking requests (they get 503 and the cloud delivers them again), lets what runs finish
   * for up to `timeoutMs` (default 10 s), then interrupts the rest: their streams are closed with
   * their closing calls, and messages still waiting are reported to `onError` as `NotHandledError`.
   * Resolves once every stream is finished; a handler that ignores its `signal` is not waited for.
   */
  close(options: { timeoutMs?: number } = {}): Promise<void> {
    this.#closing ??= this.#close(options.timeoutMs ?? 10_000);
    return this.#closing;
  }

  async #close(timeoutMs: number): Promise<void> {
    // Take no more from the inbox; what is recorded and not handled here goes to other replicas.
    await this.#options.inbox?.close();
    for (const run of this.#lanes.running()) (run as PipelineRun).closing();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.#lanes.idle().then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (!timedOut) return;
    const reason = new ImbotError('SHUTTING_DOWN', `the receiver closed after waiting ${timeoutMs} ms`);
    const runs = [...this.#lanes.running()] as PipelineRun[];
    this.#lanes.stop(reason, (message) =>
      this.report(new NotHandledError(`the receiver closed before this message's turn came`), message),
    );
    await Promise.all(runs.map((run) => run.streamsFinished()));
  }

  async #accept(request: WebhookRequest): Promise<{ messages: InboundMessage[]; events: WebhookEvent[] }> {
    const webhook = this.#options.webhook;
    const proof = this.platform.verifyWebhook(request, {
      token: webhook?.token,
      now: Math.floor(this.#now() / 1000),
      toleranceSeconds: webhook?.toleranceSeconds,
      allowUnsigned: this.#options.unsignedWebhooks,
    });
    if (proof.replayKey !== undefined) {
      const key = `nonce\u0000${this.platform.name}\u0000${proof.replayKey}`;
      if (!(await this.#seen.remember(key, proof.replayTtlMs ?? 2 * 60_000)))
        throw new WebhookVerificationError('replayed', 'callback nonce was already used');
    }
    const parsed = this.platform.parseWebhook(request);
    // Kept before the cloud hears back: a store that failed gets the request delivered again.
    await parsed.kept;
    const messages: InboundMessage[] = [];
    for (const message of parsed.messages) {
      if (!this.#addressed(message)) continue;
      if (await this.#seen.remember(this.#messageKey(message), this.#dedupeTtlMs)) messages.push(message);
    }
    return { messages, events: parsed.events };
  }

  /**
   * Stops the answers `message` may stop: in a one-to-one chat, the bot's answer to its sender; in a
   * group, the bot's answer to the sender's own message, or every answer of the bot there when the
   * sender is one of `stopAdmins`. Each ends with the text shown so far and the stop marker.
   */
  #stop(message: InboundMessage): void {
    const admin = message.conversation.type === 'group' && this.#stopAdmins.has(message.from);
    const reason = new StoppedError(message.from);
    const marker = this.#options.stopMarker ?? ' (stopped)';
    let stopped = 0;
    for (const run of this.#lanes.running()) {
      if (!(run as PipelineRun).stoppableBy(message, admin)) continue;
      (run as PipelineRun).stop(reason, marker);
      stopped++;
    }
    this.#options.logger?.debug(
      { platform: message.platform, botId: message.botId, from: message.from, stopped },
      'imbot: stop',
    );
  }

  /** The key a message is de-duplicated by. */
  #messageKey(message: InboundMessage): string {
    return `msg\u0000${this.platform.name}\u0000${message.botId}\u0000${message.messageKey}`;
  }

  /** To one of the bots handled, and not sent by a bot of the app. */
  #addressed(message: InboundMessage): boolean {
    if (this.#bots) return this.#bots.has(message.botId) && !this.#bots.has(message.from);
    return !this.platform.isBot(message.from);
  }

  #dispatch(messages: InboundMessage[], events: WebhookEvent[], handle: MessageHandler): Promise<void> {
    for (const event of events) {
      try {
        this.#options.onEvent?.(event);
      } catch (error) {
        this.report(error);
      }
    }
    return Promise.all(messages.map((message) => this.#deliver(message, handle))).then(() => undefined);
  }

  /** Hands `message` to its conversation's lane; settles once it is handled (or dropped at close). */
  #deliver(message: InboundMessage, handle: MessageHandler): Promise<void> {
    this.#options.logger?.debug(
      {
        platform: message.platform,
        botId: message.botId,
        from: message.from,
        messageKey: message.messageKey,
      },
      'imbot: message in',
    );
    return new Promise<void>((resolve) => {
      this.#lanes.add(message, {
        start: () => {
          const run = new PipelineRun(message, this, handle);
          void run.done.then(resolve);
          return run;
        },
        drop: resolve,
      });
    });
  }

  /** Whether group replies @-mention the user they answer (`mentionSender`, default true). */
  get mentionSender(): boolean {
    return this.#options.mentionSender ?? true;
  }

  /** Whether replies tell the user the bot is typing (`typing`, default true). */
  get typing(): boolean {
    return this.#options.typing ?? true;
  }

  /** Opens a stream to `target` with the pipeline's stream defaults under `options`. */
  openStream(target: ReplyTarget, options?: StreamSessionOptions): StreamSession {
    return this.platform.openStream(target, { ...this.#options.stream, ...options });
  }

  /** Reports a failure to the logger and `onError`, or to the console when there is neither. */
  report(error: unknown, message?: InboundMessage): void {
    const err =
      error instanceof Error ? error : new ImbotError('HANDLER_FAILED', `the handler threw ${String(error)}`);
    const logger = this.#options.logger;
    if (logger) {
      const fields = {
        code: (err as { code?: unknown }).code ?? err.name,
        ...(err instanceof WebhookVerificationError ? { problem: err.problem } : {}),
        ...(message ? { botId: message.botId, from: message.from, messageKey: message.messageKey } : {}),
      };
      if (err instanceof WebhookVerificationError || err instanceof ValidationError) {
        logger.warn(fields, `imbot: webhook refused: ${err.message}`);
      } else logger.error(fields, `imbot: ${err.message}`);
    }
    const onError = this.#options.onError;
    if (!onError) {
      if (!logger) console.error('[imbot]', err);
      return;
    }
    try {
      onError(err, message ? { message } : {});
    } catch (thrown) {
      console.error('[imbot] onError threw', thrown);
    }
  }
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

/** One message being handled: its reply, the streams it opened, and how to interrupt it. */
class PipelineRun implements Run {
  readonly message: InboundMessage;
  readonly done: Promise<void>;
  readonly #controller = new AbortController();
  readonly #sessions = new Set<StreamSession>();
  readonly #typing: TypingIndicator | undefined;
  #handled = false;

  constructor(message: InboundMessage, pipeline: WebhookPipeline, handle: MessageHandler) {
    this.message = message;
    const target = replyTargetOf(message, pipeline.mentionSender);
    const typing = pipeline.typing ? pipeline.platform.typing?.(target) : undefined;
    this.#typing = typing;
    const reply: Reply = {
      target,
      signal: this.#controller.signal,
      typing,
      text: (text) => {
        typing?.stop();
        return pipeline.platform.sendText(target, text);
      },
      send: (rich) => {
        typing?.stop();
        return pipeline.platform.sendMessage(target, rich);
      },
      stream: (options) => {
        const session = pipeline.openStream(target, typing ? { typing, ...options } : options);
        this.#sessions.add(session);
        if (this.#controller.signal.aborted) void session.abort(this.#controller.signal.reason);
        return session;
      },
    };
    typing?.start();
    this.done = this.#run(pipeline, handle, reply);
  }

  async #run(pipeline: WebhookPipeline, handle: MessageHandler, reply: Reply): Promise<void> {
    try {
      await handle(this.message, reply);
    } catch (error) {
      // An interrupted handler failing is the interruption itself, not a fault.
      if (!this.#controller.signal.aborted) pipeline.report(error, this.message);
      await Promise.allSettled([...this.#sessions].map((s) => s.abort(error)));
    }
    this.#typing?.stop();
    this.#handled = true;
    if (pipeline.closing) this.closing();
    await this.streamsFinished();
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

  /** Whether `stop` (a stop request) may stop this answer; `admin`: its sender may stop any in its group. */
  stoppableBy(stop: InboundMessage, admin: boolean): boolean {
    const mine = this.message;
    if (mine.botId !== stop.botId) return false;
    if (mine.conversation.type === 'c2c' || stop.conversation.type === 'c2c')
      return mine.conversation.type === stop.conversation.type && mine.from === stop.from;
    return mine.conversation.groupId === stop.conversation.groupId && (admin || mine.from === stop.from);
  }

  /**
   * Interrupts the answer: its signal aborts with `reason`, typing stops, and its open streams end
   * with what was written and then `marker`.
   */
  stop(reason: ImbotError, marker: string): void {
    if (this.#controller.signal.aborted) return;
    this.#controller.abort(reason);
    this.#typing?.stop();
    for (const session of this.#sessions) {
      if (session.closed) continue;
      // The marker's own space is left out after text that ends in one.
      if (marker !== '') session.write(/\s$/.test(session.text) ? marker.trimStart() : marker);
      void session.abort(reason);
    }
  }

  /** Settles when every stream this message opened has finished. */
  streamsFinished(): Promise<void> {
    return Promise.all([...this.#sessions].map((s) => s.done)).then(() => undefined);
  }
}

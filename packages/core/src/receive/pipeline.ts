import { ImbotError, NotHandledError, ValidationError, WebhookVerificationError } from '../errors.js';
import { userModelMessage } from '../history/model-messages.js';
import { TranscriptRecorder } from '../history/recorder.js';
import { consoleLogger, type Logger, silentLogger } from '../observe/logger.js';
import type { BotPlatform, InboundMessage, ReplyTarget, WebhookEvent, WebhookRequest } from '../platform.js';
import type { StreamSession, StreamSessionOptions } from '../stream/session.js';
import { parseInput } from '../validation.js';
import { refusalAnswer, shuttingDown, type WebhookAnswer } from './answer.js';
import { AnswerRun, type ReceivedMessage } from './answer-run.js';
import { verifyButtonPresses } from './buttons.js';
import { Lanes } from './lanes.js';
import { compose, type Middleware, type ReceiveContext } from './middleware.js';
import { type MessageHandler, pipelineOptions, type WebhookPipelineOptions } from './options.js';
import { MemorySeenStore, type SeenStore } from './seen.js';
import { answerSignals } from './signals.js';
import { applyStop, stopAnswers } from './stop.js';
import { typingSignal } from './typing-signal.js';
import { greetUsers } from './welcome.js';

/** What `receive` gives back: the answer to write now, and the handling that follows it. */
export interface Receipt {
  answer: WebhookAnswer;
  /** Settles when every message of the request has been handled (never rejects). */
  handled: Promise<void>;
}

let warnedUnsigned = false;

/** Failures of a middleware that fail the request, so that the cloud delivers it again. */
const REDELIVER: ReadonlySet<string> = new Set(['INBOX_UNAVAILABLE', 'STOPS_UNAVAILABLE']);

const noHandler: MessageHandler = () => {
  throw new NotHandledError('no onMessage handler was given for this message');
};

/**
 * The one way in for webhooks, whatever the framework: request → verify (signature, freshness, app)
 * → replay check → parse → addressed to the app's bots and not sent by them → first delivery (a
 * `SeenStore`) → the arrival middleware (stop, buttons, `use`) → the conversation's turn (in this
 * process's lanes, or an inbox's) → answer → the turn's middleware (typing) and the handler, after
 * the answer, under the `concurrency` policy. Every entry (Express, `node:http`, the fetch handler,
 * the activity adapters, the Chat SDK adapter) is a thin layer that reads a request and writes the
 * answer.
 */
export class WebhookPipeline {
  readonly platform: BotPlatform;
  /** Where the pipeline logs: the `logger` option, else the console for failures unless `onError` takes them. */
  readonly logger: Logger;
  readonly #options: WebhookPipelineOptions;
  readonly #bots: ReadonlySet<string> | undefined;
  readonly #seen: SeenStore;
  readonly #lanes: Lanes;
  readonly #now: () => number;
  readonly #dedupeTtlMs: number;
  readonly #arrive: (context: ReceiveContext) => Promise<void>;
  readonly #turn: readonly Middleware[];
  /** What `reply.history()` reads, and what keeps the conversations where the cloud does not. */
  readonly transcript: TranscriptRecorder;
  #closing: Promise<void> | undefined;
  readonly #unsubscribe: (() => void) | undefined;

  /** Checks the options (a `ValidationError` names the one that is wrong) and the webhook's security. */
  constructor(options: WebhookPipelineOptions) {
    parseInput(pipelineOptions, options, 'options');
    this.platform = options.platform;
    this.#options = options;
    this.logger = options.logger ?? (options.onError ? silentLogger : consoleLogger);
    this.#bots = options.bots
      ? new Set(options.bots.map((id, i) => this.platform.validateBotSpec({ userId: id }, i).userId))
      : undefined;
    this.#seen = options.seen ?? new MemorySeenStore();
    this.#lanes = new Lanes(options.concurrency ?? 'queue');
    this.#now = options.now ?? Date.now;
    this.transcript = new TranscriptRecorder(this.platform, options.transcript, (error) =>
      this.report(error),
    );
    this.#dedupeTtlMs = options.webhook?.dedupeTtlMs ?? 10 * 60_000;
    const arrival: Middleware[] = [
      answerSignals(options.onSignal),
      stopAnswers({
        words: options.stopWords,
        admins: options.stopAdmins,
        marker: options.stopMarker,
        channel: options.stops,
      }),
      greetUsers(options.welcome),
      verifyButtonPresses(),
      ...(options.use ?? []),
    ];
    this.#arrive = compose(arrival, (context) => this.#handOff(context));
    this.#turn = options.typing === false ? [] : [typingSignal()];
    this.#unsubscribe = options.stops?.subscribe((stop) =>
      applyStop(
        this.#lanes.running() as Iterable<AnswerRun>,
        stop,
        options.stopMarker ?? ' (stopped)',
        this.logger,
      ),
    );
    options.inbox?.start((message) =>
      this.#deliver(this.#context(message), this.#options.onMessage ?? noHandler),
    );
    this.#checkSigned();
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

  /** Whether group replies @-mention the user they answer (`mentionSender`, default true). */
  get mentionSender(): boolean {
    return this.#options.mentionSender ?? true;
  }

  /** Whether replies tell the user the bot is typing (`typing`, default true). */
  get typing(): boolean {
    return this.#options.typing ?? true;
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
    const contexts = accepted.map((message) => this.#context(message));
    try {
      await Promise.all(contexts.map((context) => this.#arrival(context)));
    } catch (error) {
      // The request failed (see #arrival): its messages are forgotten, so the cloud's redelivery counts.
      await Promise.all(accepted.map((message) => this.#seen.forget?.(this.#messageKey(message))));
      return { answer: this.refuse(error), handled: Promise.resolve() };
    }
    const turns = contexts.filter((context) => this.#handedOff.has(context));
    const { status, contentType } = this.platform.webhookAnswer;
    const answered = contexts.map((context) => this.#responses.get(context)).filter((b) => b !== undefined);
    const body = answered.at(-1) ?? this.platform.webhookAnswer.body;
    const answer = { status, headers: { 'content-type': contentType }, body };
    const handle = onMessage ?? this.#options.onMessage ?? noHandler;
    const handled = new Promise<void>((resolve) => setImmediate(resolve)).then(() =>
      this.#dispatch(turns, events, handle),
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

  /** Opens a stream to `target` with the pipeline's stream defaults under `options`. */
  openStream(target: ReplyTarget, options?: StreamSessionOptions): StreamSession {
    return this.platform.openStream(target, { ...this.#options.stream, ...options });
  }

  /**
   * Reports a failure to the logger and `onError`: refusals at warn, the rest at error; `quiet`, a
   * failure the app is told of another way, at debug.
   */
  report(error: unknown, message?: InboundMessage, { quiet = false }: { quiet?: boolean } = {}): void {
    const err =
      error instanceof Error ? error : new ImbotError('HANDLER_FAILED', `the handler threw ${String(error)}`);
    const fields = {
      code: (err as { code?: unknown }).code ?? err.name,
      ...(err instanceof WebhookVerificationError ? { problem: err.problem } : {}),
      ...(message ? { botId: message.botId, from: message.from, messageKey: message.messageKey } : {}),
      err,
    };
    if (quiet) this.logger.debug(fields, `imbot: ${err.message}`);
    else if (err instanceof WebhookVerificationError || err instanceof ValidationError) {
      this.logger.warn(fields, `imbot: webhook refused: ${err.message}`);
    } else this.logger.error(fields, `imbot: ${err.message}`);
    try {
      this.#options.onError?.(err, message ? { message } : {});
    } catch (thrown) {
      this.logger.error({ code: 'ON_ERROR_THREW', err: thrown }, 'imbot: onError threw');
    }
  }

  /** The answer bodies middleware set (`respond`), by context. */
  readonly #responses = new WeakMap<ReceiveContext, string>();

  /** The contexts whose arrival middleware handed them to their turn. */
  readonly #handedOff = new WeakSet<ReceiveContext>();

  /**
   * A message's arrival middleware. A middleware that fails is reported like a handler and drops
   * its message; an inbox that cannot record it, or a stop channel that cannot send it, fails the
   * request, so that the cloud delivers it again.
   */
  async #arrival(context: ReceiveContext): Promise<void> {
    try {
      await this.#arrive(context);
    } catch (error) {
      if (error instanceof ImbotError && REDELIVER.has(error.code)) throw error;
      this.report(error, context.message);
    }
  }

  /** The end of the arrival middleware: into the inbox (before the answer), or marked for its lane. */
  async #handOff(context: ReceiveContext): Promise<void> {
    const inbox = this.#options.inbox;
    if (inbox) {
      try {
        await inbox.add(context.message);
      } catch (error) {
        throw new ImbotError('INBOX_UNAVAILABLE', 'the message could not be recorded', { cause: error });
      }
      return;
    }
    this.#handedOff.add(context);
  }

  #context(inbound: InboundMessage): ReceiveContext {
    // Not enumerable: the message stays plain data to compare, log and record in an inbox.
    const message = Object.defineProperty(inbound, 'toModelMessage', {
      value: () => userModelMessage(inbound),
      configurable: true,
    }) as ReceivedMessage;
    const reply = new AnswerRun(message, this);
    const context: ReceiveContext = {
      message,
      reply,
      platform: this.platform,
      logger: this.logger,
      running: () => this.#lanes.running() as Iterable<AnswerRun>,
      report: (error) => this.report(error, message),
      respond: (body) => void this.#responses.set(context, body),
    };
    return context;
  }

  async #close(timeoutMs: number): Promise<void> {
    // Take no more from the inbox; what is recorded and not handled here goes to other replicas.
    await this.#options.inbox?.close();
    this.#unsubscribe?.();
    for (const run of this.#lanes.running()) (run as AnswerRun).closing();
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
    const runs = [...this.#lanes.running()] as AnswerRun[];
    this.#lanes.stop(reason, (message) =>
      this.report(new NotHandledError(`the receiver closed before this message's turn came`), message),
    );
    await Promise.all(runs.map((run) => run.streamsFinished()));
  }

  async #accept(request: WebhookRequest): Promise<{ messages: InboundMessage[]; events: WebhookEvent[] }> {
    const webhook = this.#options.webhook;
    const proof = await this.platform.verifyWebhook(request, {
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

  /** The key a message is de-duplicated by. */
  #messageKey(message: InboundMessage): string {
    return `msg\u0000${this.platform.name}\u0000${message.botId}\u0000${message.messageKey}`;
  }

  /** To one of the bots handled, and not sent by a bot of the app. */
  #addressed(message: InboundMessage): boolean {
    if (this.#bots) return this.#bots.has(message.botId) && !this.#bots.has(message.from);
    return !this.platform.isBot(message.from);
  }

  #dispatch(turns: ReceiveContext[], events: WebhookEvent[], handle: MessageHandler): Promise<void> {
    for (const event of events) {
      try {
        this.#options.onEvent?.(event);
      } catch (error) {
        this.report(error);
      }
    }
    return Promise.all(turns.map((context) => this.#deliver(context, handle))).then(() => undefined);
  }

  /** Hands a message to its conversation's lane; settles once it is handled (or dropped at close). */
  #deliver(context: ReceiveContext, handle: MessageHandler): Promise<void> {
    const { message, reply } = context;
    this.logger.debug(
      {
        platform: message.platform,
        botId: message.botId,
        from: message.from,
        messageKey: message.messageKey,
      },
      'imbot: message in',
    );
    const turn = compose(this.#turn, async () => {
      await handle(message, reply);
    });
    return new Promise<void>((resolve) => {
      this.#lanes.add(message, {
        start: () => {
          this.transcript.user(message);
          reply.run(
            () => turn(context),
            (error) => this.report(error, message),
            () => this.closing,
          );
          void reply.done.then(resolve);
          return reply;
        },
        drop: resolve,
      });
    });
  }

  /** Refuses to start on unsigned callbacks unless the app said it accepts them, and warns once if so. */
  #checkSigned(): void {
    const signed = this.platform.signsWebhooks || this.#options.webhook?.token !== undefined;
    if (!signed && this.#options.unsignedWebhooks !== true) {
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
}

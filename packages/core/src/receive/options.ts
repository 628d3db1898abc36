import * as z from 'zod';
import type { TranscriptStore } from '../history/transcript.js';
import { type Logger, loggerOption } from '../observe/logger.js';
import type { BotPlatform, InboundMessage, WebhookEvent } from '../platform.js';
import type { StreamSessionOptions } from '../stream/session.js';
import type { ReceivedMessage, Reply } from './answer-run.js';
import type { Inbox } from './inbox.js';
import type { Concurrency } from './lanes.js';
import type { Middleware } from './middleware.js';
import type { SeenStore } from './seen.js';
import type { SignalHandler } from './signals.js';
import type { StopChannel } from './stop.js';
import type { WelcomeOption } from './welcome.js';

/** Handles one new user message to one of the bots, after the cloud has had its answer. */
export type MessageHandler = (message: ReceivedMessage, reply: Reply) => unknown;

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

/**
 * How a receiver receives, whatever its entry (`imbot()`, `createFetchHandler()`, the activity
 * adapters, the Chat SDK adapter): every entry takes these options and hands them to the one
 * pipeline unchanged.
 */
export interface ReceiveOptions {
  /** Callbacks that are not user messages, passed through. */
  onEvent?: ((event: WebhookEvent) => void) | undefined;
  /** Refusals, handler errors, messages left unhandled at close. Default: the logger, else the console. */
  onError?: ErrorReporter | undefined;
  /**
   * A pino-compatible logger: each message in at debug level, refusals at warn, failures at error
   * (also when `onError` is given). Never a secret. Default: failures on the console unless
   * `onError` takes them.
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
  /**
   * Where a stop goes to reach the replica running the answer it stops (`new RedisStopChannel(…)`).
   * Default: a stop works in the process that receives it.
   */
  stops?: StopChannel | undefined;
  /** When a user writes while the bot is still answering them. Default `'queue'`. */
  concurrency?: Concurrency | undefined;
  /** Defaults for every `reply.stream()`. */
  stream?: StreamSessionOptions | undefined;
  /**
   * Where the conversations are kept for `reply.history()` (`MemoryTranscriptStore`, or
   * `RedisTranscriptStore` from `@imbot/redis` for every replica): each user message and each answer
   * as it passes. Default none: `reply.history()` reads the cloud's own history where it keeps one
   * (Tencent), and elsewhere starts keeping conversations in memory when it is first called.
   */
  transcript?: TranscriptStore | undefined;
  /**
   * Middleware run on each message as it arrives, after the built-in stop and button checks and
   * before the message waits for its turn: to drop, rewrite or answer messages (see `Middleware`).
   */
  use?: readonly Middleware[] | undefined;
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
   * What the bot greets a user with when their client opens its chat (TUIKit's greeting): the
   * questions they may tap, or a function of the user choosing them. Greetings never reach the
   * handler; without `welcome` they are dropped.
   */
  welcome?: WelcomeOption | undefined;
  /**
   * Answers a pass-through signal (Tencent `Chatbot.OnC2CSignalMessage`) within its callback: the
   * result is the callback's `RspData`. Unhandled signals are acknowledged as such (`ErrorCode: 1`).
   */
  onSignal?: SignalHandler | undefined;
  /**
   * Whether replies in a group @-mention the user they answer (who @-mentioned the bot to get
   * there), so the user's client notifies them. Default true.
   */
  mentionSender?: boolean | undefined;
  /** Clock in milliseconds since the epoch; injectable for tests. */
  now?: (() => number) | undefined;
}

export interface WebhookPipelineOptions extends ReceiveOptions {
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
}

/** An object with the methods `names`: a store or channel the app gives, told apart from a mistake. */
const withMethods = <T>(names: readonly string[], what: string) =>
  z.custom<T>(
    (v) =>
      typeof v === 'object' &&
      v !== null &&
      names.every((name) => typeof (v as Record<string, unknown>)[name] === 'function'),
    what,
  );

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

/** `ReceiveOptions` and the platform, as every entry checks them before anything starts. */
export const receiveOptionsShape = {
  platform: platformSchema,
  onEvent: fn('must be a function (event) => void').optional(),
  onError: fn('must be a function (error, context) => void').optional(),
  logger: loggerOption.optional(),
  webhook: webhookOptionsSchema.optional(),
  unsignedWebhooks: z.boolean().optional(),
  seen: withMethods<SeenStore>(
    ['remember'],
    'must be a SeenStore: an object with remember(key, ttlMs)',
  ).optional(),
  inbox: withMethods<Inbox>(
    ['add', 'start', 'close'],
    'must be an Inbox (add, start, close), such as new RedisInbox(…)',
  ).optional(),
  stops: withMethods<StopChannel>(
    ['publish', 'subscribe'],
    'must be a StopChannel (publish, subscribe), such as new RedisStopChannel(…)',
  ).optional(),
  concurrency: z.enum(['queue', 'interrupt', 'concurrent']).optional(),
  stream: z.record(z.string(), z.unknown()).optional(),
  transcript: withMethods<TranscriptStore>(
    ['append', 'read'],
    'must be a TranscriptStore (append, read), such as new MemoryTranscriptStore() or new RedisTranscriptStore(…)',
  ).optional(),
  use: z.array(fn('a middleware must be a function (context, next) => …')).optional(),
  mentionSender: z.boolean().optional(),
  typing: z.boolean().optional(),
  stopWords: z.array(z.string().trim().min(1, 'a stop word must not be empty')).optional(),
  stopAdmins: z.array(z.string().min(1, 'must not be empty')).optional(),
  stopMarker: z.string().optional(),
  onSignal: fn('must be a function (signal, reply) => result').optional(),
  welcome: z
    .union([
      fn('must be { title, items } or a function (userId, message) => { title, items }'),
      z.object({ title: z.string().min(1), items: z.array(z.string().min(1)).min(1) }),
    ])
    .optional(),
  now: fn('must be a function () => number').optional(),
};

export const pipelineOptions = z
  .object({
    ...receiveOptionsShape,
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
  ...receiveOptionsShape,
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

import { ImbotError, ValidationError } from '../errors.js';
import type { HistoryOptions } from '../history/conversation.js';
import type { ModelMessage } from '../history/model-messages.js';
import type { BotPlatform, BotSpec, InboundMessage, WebhookRequest } from '../platform.js';
import type { Reply } from '../receive/answer-run.js';
import type { NodeRequestLike } from '../receive/body.js';
import { receiveFetchRequest } from '../receive/fetch.js';
import { type NodeResponseLike, receiveNodeRequest } from '../receive/node.js';
import { adapterOptionsSchema, type MessageHandler, type ReceiveOptions } from '../receive/options.js';
import { type Receipt, WebhookPipeline } from '../receive/pipeline.js';
import type { StreamSessionOptions } from '../stream/session.js';
import { parseInput } from '../validation.js';
import { ActivityBridge, type TurnScope } from './bridge.js';
import { conversationReferenceFor, inboundToActivity } from './convert.js';
import type { ActivityLike, ConversationReferenceLike } from './protocol.js';

/** The options every framework adapter takes (Bot Framework, Agents SDK). */
export interface AdapterOptions extends Omit<ReceiveOptions, 'inbox' | 'stream'> {
  /** The cloud: `new TencentIm(…).platform` or `new RongCloud(…).platform`. */
  platform: BotPlatform;
  /**
   * The bot accounts the adapter answers for (ids or specs); messages to others are ignored.
   * Default: every bot of the app a message is addressed to. Messages sent by the app's bots are
   * ignored either way.
   */
  bots?: (string | BotSpec)[] | undefined;
  /** Options of the stream sessions that carry streamed replies. */
  stream?: StreamSessionOptions | undefined;
}

/** What a turn state collection offers (both SDKs' `TurnContext.turnState`). */
interface TurnStateLike {
  get(key: unknown): unknown;
  set(key: unknown, value: unknown): unknown;
}

const TURN_SCOPE = Symbol.for('imbot.turnScope');

/**
 * Everything a framework adapter does that does not depend on its SDK: options, the webhook pipeline
 * (receiving from Node or web requests, answering first, turns per conversation), the activity
 * bridge (sending, streaming, editing), and the turn's scope. An adapter holds one and adds only its
 * SDK's `TurnContext` and base class.
 */
export class AdapterCore {
  readonly platform: BotPlatform;
  /** The bots named in `bots`; empty when the adapter answers for every bot of the app. */
  readonly botIds: readonly string[];
  readonly pipeline: WebhookPipeline;
  readonly bridge: ActivityBridge;

  /** Checks every option first: a `ValidationError` names the one that is wrong, and nothing is sent. */
  constructor(options: AdapterOptions) {
    parseInput(adapterOptionsSchema, options, 'options');
    this.platform = options.platform;
    this.botIds = (options.bots ?? []).map((b) => (typeof b === 'string' ? b : b.userId));
    this.pipeline = new WebhookPipeline({ ...options, bots: options.bots ? this.botIds : undefined });
    this.bridge = new ActivityBridge(this.platform, options.stream, {
      mentionSender: this.pipeline.mentionSender,
    });
  }

  /** A message handler that runs each user message as a turn, through `turn`. */
  handler(turn: (activity: ActivityLike, reply: Reply) => Promise<void>): MessageHandler {
    return (message: InboundMessage, reply: Reply) => turn(inboundToActivity(message), reply);
  }

  /** Reads a Node request, answers it, and runs its messages through `handler` after the answer. */
  async process(req: NodeRequestLike, res: NodeResponseLike, handler: MessageHandler): Promise<void> {
    await receiveNodeRequest(this.pipeline, req, res, handler);
  }

  /** The same for a web `Request`, resolving with the `Response`. */
  handle(request: Request, handler: MessageHandler): Promise<Response> {
    return receiveFetchRequest(this.pipeline, request, { onMessage: handler });
  }

  /** A request in framework-neutral form, through the pipeline. */
  receive(request: WebhookRequest, handler: MessageHandler): Promise<Receipt> {
    return this.pipeline.receive(request, handler);
  }

  /**
   * The conversation of the turn's message as model messages (see `Reply.history`), oldest first,
   * ending with the message; a turn that answers no user message (a proactive one) has none.
   */
  history(turnState: TurnStateLike, options?: HistoryOptions): Promise<ModelMessage[]> {
    const reply = (turnState.get(TURN_SCOPE) as TurnScope | undefined)?.reply;
    if (!reply) {
      return Promise.reject(
        new ImbotError('NO_MESSAGE', "history: this turn answers no user's message (a proactive turn)"),
      );
    }
    return reply.history(options);
  }

  /** Sends a turn's activities; one response each. */
  async send(turnState: TurnStateLike, activities: ActivityLike[]): Promise<{ id: string }[]> {
    const turn = (turnState.get(TURN_SCOPE) as TurnScope | undefined) ?? { streams: new Set<string>() };
    const responses: { id: string }[] = [];
    for (const activity of activities) responses.push(await this.bridge.send(activity, turn));
    return responses;
  }

  /** Runs `run` as a turn whose streams end with it; `reply` is the pipeline's, for a user's message. */
  async turn(turnState: TurnStateLike, reply: Reply | undefined, run: () => Promise<void>): Promise<void> {
    const scope: TurnScope = { streams: new Set<string>(), reply };
    turnState.set(TURN_SCOPE, scope);
    try {
      await run();
    } finally {
      await this.bridge.endTurn(scope);
    }
  }

  /** The activity a proactive turn runs on: a `ContinueConversation` event on `reference`'s conversation. */
  continuation(reference: ConversationReferenceLike, id: string): ActivityLike {
    // These clouds have no service URL: an empty one is left out (the Agents SDK refuses it).
    const { serviceUrl, ...rest } = reference;
    const activity: ActivityLike = {
      type: 'event',
      name: 'ContinueConversation',
      id,
      channelId: reference.channelId ?? this.platform.name,
      relatesTo: serviceUrl ? reference : rest,
    };
    if (serviceUrl) activity.serviceUrl = serviceUrl;
    if (reference.conversation) activity.conversation = reference.conversation;
    if (reference.user) activity.from = reference.user;
    const bot = reference.bot ?? reference.agent;
    if (bot) activity.recipient = bot;
    return activity;
  }

  /**
   * A conversation reference from ids alone, for a proactive message to a user or a group with no
   * stored reference. `botId` may be left out when the adapter has one bot.
   */
  reference(
    target: { botId?: string } & ({ userId: string } | { groupId: string }),
  ): ConversationReferenceLike {
    const botId = target.botId ?? this.onlyBot('conversationReferenceFor');
    return conversationReferenceFor({ ...target, botId, channelId: this.platform.name });
  }

  /** The adapter's one bot, for calls that may leave it out. */
  onlyBot(what: string): string {
    if (this.botIds.length !== 1) {
      throw new ValidationError(
        'botId',
        `${what}: name the bot (botId); this adapter ${this.botIds.length === 0 ? 'answers for every bot' : `has ${this.botIds.length}`}`,
      );
    }
    return this.botIds[0] as string;
  }
}

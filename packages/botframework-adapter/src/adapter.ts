import { randomUUID } from 'node:crypto';
import {
  ActivityBridge,
  type ActivityLike,
  adapterOptionsSchema,
  type BotPlatform,
  type BotSpec,
  type ConversationReferenceLike,
  conversationReferenceFor,
  inboundToActivity,
  type NodeRequestLike,
  type NodeResponseLike,
  parseInput,
  type Reply,
  receiveNodeRequest,
  type StreamSessionOptions,
  type TurnScope,
  WebhookPipeline,
  type WebhookPipelineOptions,
  type WebhookRequest,
} from '@imbot/core';
import {
  type Activity,
  ActivityTypes,
  BotAdapter,
  type ConversationParameters,
  type ConversationReference,
  type ResourceResponse,
  TurnContext,
} from 'botbuilder';

export interface ImBotAdapterOptions
  extends Pick<
    WebhookPipelineOptions,
    'webhook' | 'unsignedWebhooks' | 'seen' | 'concurrency' | 'onEvent' | 'onError' | 'now'
  > {
  /** The cloud: `new TencentIm(…).platform` or `new RongCloud(…).platform`. */
  platform: BotPlatform;
  /**
   * The bot accounts this adapter answers for (ids or specs); messages to others are ignored.
   * Default: every bot of the app a message is addressed to. Messages sent by the app's bots are
   * ignored either way.
   */
  bots?: (string | BotSpec)[] | undefined;
  /** Options of the stream sessions that carry streamed replies. */
  stream?: StreamSessionOptions | undefined;
}

/** A webhook request in framework-neutral form. */
export interface WebhookInput {
  headers?: Record<string, string | string[] | undefined>;
  /** The query string (`a=1&b=2`), or its parameters. */
  query: URLSearchParams | string | Record<string, string>;
  /** The body bytes as received. */
  rawBody?: Buffer | string;
  /** Or the body already parsed as JSON. */
  body?: unknown;
}

/** What to answer the webhook with, and the turns it started (resolved when they have all run). */
export interface WebhookResult {
  status: number;
  headers: Record<string, string>;
  body: string;
  turns: Promise<void>;
}

type Logic = (context: TurnContext) => Promise<void>;

const TURN_SCOPE = Symbol('imbot.turnScope');

/**
 * A Bot Framework `BotAdapter` for instant-messaging clouds: an existing BotBuilder bot (its
 * `ActivityHandler`, dialogs and middleware) runs on Tencent Cloud Chat robots and RongCloud bots
 * through a `BotPlatform`. It is an entry into core's webhook pipeline: callbacks are verified,
 * de-duplicated and answered at once, then run as turns (one at a time per conversation unless
 * `concurrency` says otherwise); replies become messages, and `typing` activities with a
 * `streaminfo` entity (the streaming contract of Teams, teams-ai and the Agents SDK) become one
 * streamed message that grows.
 *
 * @example
 * const adapter = new ImBotAdapter({ platform: im.platform });
 * adapter.onTurnError = async (context, error) => { console.error(error); };
 * app.post('/im/webhook', (req, res) => adapter.process(req, res, (context) => bot.run(context)));
 */
export class ImBotAdapter extends BotAdapter {
  readonly platform: BotPlatform;
  /** The bots named in `bots`; empty when the adapter answers for every bot of the app. */
  readonly botIds: readonly string[];
  readonly #pipeline: WebhookPipeline;
  readonly #bridge: ActivityBridge;

  /** Checks every option first: a `ValidationError` names the one that is wrong, and nothing is sent. */
  constructor(options: ImBotAdapterOptions) {
    super();
    parseInput(adapterOptionsSchema, options, 'options');
    this.platform = options.platform;
    this.botIds = (options.bots ?? []).map((b) => (typeof b === 'string' ? b : b.userId));
    this.#pipeline = new WebhookPipeline({
      ...options,
      bots: options.bots ? this.botIds : undefined,
      onError: options.onError ?? reportToConsole,
    });
    this.#bridge = new ActivityBridge(this.platform, options.stream);
  }

  /**
   * Handles one webhook request from any framework: verifies it (refusals get their 4xx and run no
   * turn), and answers at once; the turns run afterwards, each through the middleware and `logic`,
   * with errors going to `onTurnError`. `turns` resolves when they have all run.
   */
  async handleWebhook(input: WebhookInput, logic: Logic): Promise<WebhookResult> {
    const query =
      input.query instanceof URLSearchParams
        ? input.query
        : new URLSearchParams(input.query as string | Record<string, string>);
    const request: WebhookRequest = { query, headers: input.headers ?? {} };
    if (input.rawBody !== undefined) request.rawBody = input.rawBody;
    else request.parsedBody = input.body;
    const { answer, handled } = await this.#pipeline.receive(request, this.#handler(logic));
    return { ...answer, turns: handled };
  }

  /**
   * Handles a webhook request from Express, Restify or `node:http`: reads the body (raw, or as
   * parsed by a body parser), answers, then runs the turns. Resolves once the answer is sent.
   */
  async process(req: NodeRequestLike, res: NodeResponseLike, logic: Logic): Promise<void> {
    await receiveNodeRequest(this.#pipeline, req, res, this.#handler(logic));
  }

  /**
   * Stops taking webhooks (503), lets running turns finish for up to `timeoutMs` (default 10 s),
   * then closes the rest's streams with their closing calls.
   */
  close(options?: { timeoutMs?: number }): Promise<void> {
    return this.#pipeline.close(options);
  }

  #handler(logic: Logic) {
    return (message: Parameters<typeof inboundToActivity>[0], reply: Reply) =>
      this.#turn(inboundToActivity(message) as Partial<Activity>, logic, reply);
  }

  /** The same as `process`, under the name Bot Framework adapters use. */
  processActivity(req: NodeRequestLike, res: NodeResponseLike, logic: Logic): Promise<void> {
    return this.process(req, res, logic);
  }

  override async sendActivities(
    context: TurnContext,
    activities: Partial<Activity>[],
  ): Promise<ResourceResponse[]> {
    const turn = (context.turnState.get(TURN_SCOPE) as TurnScope | undefined) ?? {
      streams: new Set<string>(),
    };
    const responses: ResourceResponse[] = [];
    for (const activity of activities)
      responses.push(await this.#bridge.send(activity as ActivityLike, turn));
    return responses;
  }

  override async updateActivity(_context: TurnContext, activity: Partial<Activity>): Promise<void> {
    await this.#bridge.update(activity as ActivityLike);
  }

  override async deleteActivity(
    _context: TurnContext,
    reference: Partial<ConversationReference>,
  ): Promise<void> {
    await this.#bridge.delete(reference as ConversationReferenceLike);
  }

  /** Runs `logic` in a new turn on an existing conversation, to send proactive messages. */
  override async continueConversation(
    reference: Partial<ConversationReference>,
    logic: Logic,
  ): Promise<void> {
    const activity: Partial<Activity> = {
      type: ActivityTypes.Event,
      name: 'ContinueConversation',
      id: randomUUID(),
      channelId: reference.channelId,
      serviceUrl: reference.serviceUrl,
      conversation: reference.conversation,
      from: reference.user,
      recipient: reference.bot,
      relatesTo: reference as ConversationReference,
    };
    await this.#turn(activity, logic);
  }

  override continueConversationAsync(
    botAppId: string,
    reference: Partial<ConversationReference>,
    logic: Logic,
  ): Promise<void>;
  override continueConversationAsync(
    claimsIdentity: object,
    reference: Partial<ConversationReference>,
    logic: Logic,
  ): Promise<void>;
  override continueConversationAsync(
    claimsIdentity: object,
    reference: Partial<ConversationReference>,
    audience: string,
    logic: Logic,
  ): Promise<void>;
  /** Every overload ends in `continueConversation`: these clouds have no app-id or claims checks. */
  override async continueConversationAsync(
    _botAppIdOrClaims: string | object,
    reference: Partial<ConversationReference>,
    logicOrAudience: Logic | string,
    maybeLogic?: Logic,
  ): Promise<void> {
    const logic = typeof logicOrAudience === 'function' ? logicOrAudience : maybeLogic;
    if (!logic) throw new TypeError('continueConversationAsync needs a logic function');
    await this.continueConversation(reference, logic);
  }

  /**
   * Starts a one-to-one conversation with `parameters.members[0]` from `parameters.bot` (or this
   * adapter's only bot) and runs `logic` in it.
   */
  override async createConversationAsync(
    _botAppId: string,
    channelId: string,
    _serviceUrl: string,
    _audience: string,
    parameters: ConversationParameters,
    logic: Logic,
  ): Promise<void> {
    const userId = parameters.members?.[0]?.id;
    if (!userId) throw new TypeError('createConversationAsync needs the user in parameters.members[0]');
    const botId = parameters.bot?.id || this.#onlyBot('createConversationAsync');
    await this.continueConversation(
      conversationReferenceFor({
        botId,
        userId,
        channelId: channelId || this.platform.name,
      }) as Partial<ConversationReference>,
      logic,
    );
  }

  /**
   * A conversation reference from ids alone, for a proactive message to a user or a group with no
   * stored reference. `botId` may be left out when the adapter has one bot.
   */
  conversationReferenceFor(
    target: { botId?: string } & ({ userId: string } | { groupId: string }),
  ): Partial<ConversationReference> {
    const botId = target.botId ?? this.#onlyBot('conversationReferenceFor');
    return (
      'groupId' in target
        ? conversationReferenceFor({ botId, groupId: target.groupId, channelId: this.platform.name })
        : conversationReferenceFor({
            botId,
            userId: target.userId,
            channelId: this.platform.name,
          })
    ) as Partial<ConversationReference>;
  }

  #onlyBot(what: string): string {
    if (this.botIds.length !== 1) {
      throw new TypeError(
        `${what}: name the bot (botId); this adapter ${this.botIds.length === 0 ? 'answers for every bot' : `has ${this.botIds.length}`}`,
      );
    }
    return this.botIds[0] as string;
  }

  /**
   * One turn: middleware and logic; afterwards, streams the bot left open are finished. `reply` is
   * the pipeline's for a user's message (its streams are interrupted with it), absent for proactive turns.
   */
  async #turn(activity: Partial<Activity>, logic: Logic, reply?: Reply): Promise<void> {
    const context = new TurnContext(this, activity);
    const turn: TurnScope = { streams: new Set<string>(), reply };
    context.turnState.set(TURN_SCOPE, turn);
    try {
      await this.runMiddleware(context, logic);
    } finally {
      await this.#bridge.endTurn(turn);
    }
  }
}

/** Refusals and failures outside turns, when no `onError` was given. */
function reportToConsole(error: Error): void {
  console.error('[imbot]', error);
}

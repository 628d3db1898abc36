import { randomUUID } from 'node:crypto';
import {
  type BotPlatform,
  type HistoryOptions,
  type ModelMessage,
  type NodeRequestLike,
  type NodeResponseLike,
  type Reply,
  ValidationError,
  type WebhookRequest,
} from '@imbot/core';
import {
  type ActivityLike,
  AdapterCore,
  type AdapterOptions,
  type ConversationReferenceLike,
  conversationReferenceFor,
} from '@imbot/core/activity';
import {
  type Activity,
  BotAdapter,
  type ConversationParameters,
  type ConversationReference,
  type ResourceResponse,
  TurnContext,
} from 'botbuilder';

/** The options of `ImBotAdapter`: core's `AdapterOptions` (see its fields). */
export type ImBotAdapterOptions = AdapterOptions;

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

/**
 * A Bot Framework `BotAdapter` for instant-messaging clouds: an existing BotBuilder bot (its
 * `ActivityHandler`, dialogs and middleware) runs on Tencent Cloud Chat robots and RongCloud bots
 * through a `BotPlatform`. It is an entry into core's webhook pipeline: callbacks are verified,
 * de-duplicated and answered at once, then run as turns (one at a time per conversation unless
 * `concurrency` says otherwise); replies become messages, and `typing` activities with a
 * `streaminfo` entity (the streaming contract of Teams, teams-ai and the Agents SDK) become one
 * streamed message that grows. What does not depend on botbuilder is core's `AdapterCore`, shared
 * with the Agents SDK adapter.
 *
 * @example
 * const adapter = new ImBotAdapter({ platform: im.platform });
 * adapter.onTurnError = async (context, error) => { console.error(error); };
 * app.post('/im/webhook', (req, res) => adapter.process(req, res, (context) => bot.run(context)));
 */
export class ImBotAdapter extends BotAdapter {
  readonly #core: AdapterCore;

  /** Checks every option first: a `ValidationError` names the one that is wrong, and nothing is sent. */
  constructor(options: ImBotAdapterOptions) {
    super();
    this.#core = new AdapterCore(options);
  }

  /** The cloud the adapter serves. */
  get platform(): BotPlatform {
    return this.#core.platform;
  }

  /** The bots named in `bots`; empty when the adapter answers for every bot of the app. */
  get botIds(): readonly string[] {
    return this.#core.botIds;
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
    const { answer, handled } = await this.#core.receive(request, this.#handler(logic));
    return { ...answer, turns: handled };
  }

  /**
   * Handles a webhook request from Express, Restify or `node:http`: reads the body (raw, or as
   * parsed by a body parser), answers, then runs the turns. Resolves once the answer is sent.
   */
  process(req: NodeRequestLike, res: NodeResponseLike, logic: Logic): Promise<void> {
    return this.#core.process(req, res, this.#handler(logic));
  }

  /** The same as `process`, under the name Bot Framework adapters use. */
  processActivity(req: NodeRequestLike, res: NodeResponseLike, logic: Logic): Promise<void> {
    return this.process(req, res, logic);
  }

  /**
   * The conversation the turn answers, as the AI SDK's model messages, oldest first, ending with the
   * turn's message: to hand to a model (`streamText({ messages: await adapter.history(context) })`).
   * Read from the cloud's history, or the receiver's `transcript`; a proactive turn has none.
   */
  history(context: TurnContext, options?: HistoryOptions): Promise<ModelMessage[]> {
    return this.#core.history(context.turnState, options);
  }

  /**
   * Stops taking webhooks (503), lets running turns finish for up to `timeoutMs` (default 10 s),
   * then closes the rest's streams with their closing calls.
   */
  close(options?: { timeoutMs?: number }): Promise<void> {
    return this.#core.pipeline.close(options);
  }

  override sendActivities(
    context: TurnContext,
    activities: Partial<Activity>[],
  ): Promise<ResourceResponse[]> {
    return this.#core.send(context.turnState, activities as ActivityLike[]);
  }

  override updateActivity(_context: TurnContext, activity: Partial<Activity>): Promise<void> {
    return this.#core.bridge.update(activity as ActivityLike);
  }

  override deleteActivity(_context: TurnContext, reference: Partial<ConversationReference>): Promise<void> {
    return this.#core.bridge.delete(reference as ConversationReferenceLike);
  }

  /** Runs `logic` in a new turn on an existing conversation, to send proactive messages. */
  override async continueConversation(
    reference: Partial<ConversationReference>,
    logic: Logic,
  ): Promise<void> {
    await this.#turn(this.#core.continuation(reference as ConversationReferenceLike, randomUUID()), logic);
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
    if (!logic) throw new ValidationError('logic', 'continueConversationAsync needs a logic function');
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
    if (!userId)
      throw new ValidationError(
        'parameters.members',
        'createConversationAsync needs the user in parameters.members[0]',
      );
    const botId = parameters.bot?.id || this.#core.onlyBot('createConversationAsync');
    const reference = conversationReferenceFor({ botId, userId, channelId: channelId || this.platform.name });
    await this.continueConversation(reference as Partial<ConversationReference>, logic);
  }

  /**
   * A conversation reference from ids alone, for a proactive message to a user or a group with no
   * stored reference. `botId` may be left out when the adapter has one bot.
   */
  conversationReferenceFor(
    target: { botId?: string } & ({ userId: string } | { groupId: string }),
  ): Partial<ConversationReference> {
    return this.#core.reference(target) as Partial<ConversationReference>;
  }

  #handler(logic: Logic) {
    return this.#core.handler((activity, reply) => this.#turn(activity, logic, reply));
  }

  /** One turn through the middleware and `logic` (errors to `onTurnError`); its streams end with it. */
  #turn(activity: ActivityLike, logic: Logic, reply?: Reply): Promise<void> {
    const context = new TurnContext(this, activity as Partial<Activity>);
    return this.#core.turn(context.turnState, reply, () => this.runMiddleware(context, logic));
  }
}

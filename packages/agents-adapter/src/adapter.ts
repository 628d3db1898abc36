import { randomUUID } from 'node:crypto';
import {
  type BotPlatform,
  type HistoryOptions,
  type ModelMessage,
  type NodeRequestLike,
  type NodeResponseLike,
  NotSupportedError,
  type Reply,
} from '@imbot/core';
import {
  type ActivityLike,
  AdapterCore,
  type AdapterOptions,
  type ConversationReferenceLike,
} from '@imbot/core/activity';
import { Activity, type ConversationReference } from '@microsoft/agents-activity';
import {
  type AttachmentInfo,
  BaseAdapter,
  type ResourceResponse,
  TurnContext,
} from '@microsoft/agents-hosting';

/** The options of `ImbotAgentsAdapter`: core's `AdapterOptions`, as the Bot Framework adapter's. */
export type ImbotAgentsAdapterOptions = AdapterOptions;

type Logic = (context: TurnContext) => Promise<void>;

/**
 * A Microsoft 365 Agents SDK adapter for instant-messaging clouds: an agent built on
 * `@microsoft/agents-hosting` (an `AgentApplication` with its routes and state, or an
 * `ActivityHandler`) runs on Tencent Cloud Chat robots and RongCloud bots. It is an entry into
 * core's webhook pipeline, like the Express middleware and the Bot Framework adapter: callbacks are
 * verified, de-duplicated and answered at once, then run as turns, one at a time per conversation.
 * Replies become messages; streamed answers (`imbotStream`, `streamText`) become one message that
 * grows. Errors of a turn go to `onTurnError`. What does not depend on the SDK is core's `AdapterCore`.
 *
 * @example
 * const adapter = new ImbotAgentsAdapter({ platform: im.platform });
 * app.post('/im/webhook', (req, res) => adapter.process(req, res, (context) => agent.run(context)));
 */
export class ImbotAgentsAdapter extends BaseAdapter {
  /** The cloud the adapter serves. */
  readonly platform: BotPlatform;
  readonly #core: AdapterCore;

  /** Checks every option first (a `ValidationError` names the one that is wrong); nothing is sent. */
  constructor(options: ImbotAgentsAdapterOptions) {
    super();
    this.#core = new AdapterCore(options);
    this.platform = this.#core.platform;
  }

  /**
   * Handles a webhook request from Express or `node:http`: reads the body, answers the cloud, then
   * runs the turns through the middleware and `logic` (`(context) => app.run(context)`).
   */
  process(req: NodeRequestLike, res: NodeResponseLike, logic: Logic): Promise<void> {
    return this.#core.process(req, res, this.#handler(logic));
  }

  /** The same for a web `Request` (Hono, Next.js, Bun, Deno, workers): resolves with the answer. */
  handle(request: Request, logic: Logic): Promise<Response> {
    return this.#core.handle(request, this.#handler(logic));
  }

  /**
   * The conversation the turn answers, as the AI SDK's model messages, oldest first, ending with the
   * turn's message: to hand to a model. Read from the cloud's history, or the receiver's
   * `transcript`; a proactive turn has none.
   */
  history(context: TurnContext, options?: HistoryOptions): Promise<ModelMessage[]> {
    return this.#core.history(context.turnState, options);
  }

  /** Stops taking webhooks (503), lets running turns finish for up to `timeoutMs` (10 s), then closes their streams. */
  close(options?: { timeoutMs?: number }): Promise<void> {
    return this.#core.pipeline.close(options);
  }

  override sendActivities(context: TurnContext, activities: Activity[]): Promise<ResourceResponse[]> {
    return this.#core.send(context.turnState, activities as ActivityLike[]);
  }

  override updateActivity(_context: TurnContext, activity: Activity): Promise<void> {
    return this.#core.bridge.update(activity as ActivityLike);
  }

  override deleteActivity(_context: TurnContext, reference: Partial<ConversationReference>): Promise<void> {
    return this.#core.bridge.delete(reference as ConversationReferenceLike);
  }

  /** Runs `logic` in a new turn on an existing conversation, to send proactive messages. */
  override async continueConversation(
    _botAppIdOrIdentity: unknown,
    reference: Partial<ConversationReference>,
    logic: Logic,
  ): Promise<void> {
    await this.#turn(this.#core.continuation(reference as ConversationReferenceLike, randomUUID()), logic);
  }

  /** Starts a one-to-one conversation of `botId` (or the adapter's only bot) with `userId` and runs `logic` in it. */
  async createConversation(target: { botId?: string; userId: string }, logic: Logic): Promise<void> {
    const reference = this.#core.reference({
      ...target,
      botId: target.botId ?? this.#core.onlyBot('createConversation'),
    });
    await this.continueConversation(undefined, reference as Partial<ConversationReference>, logic);
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

  /** These clouds take no uploads through the adapter: send an image or file by URL instead. */
  override uploadAttachment(): Promise<ResourceResponse> {
    return Promise.reject(new NotSupportedError('uploadAttachment: send images and files by URL'));
  }

  override getAttachmentInfo(): Promise<AttachmentInfo> {
    return Promise.reject(
      new NotSupportedError('getAttachmentInfo: attachments come with their URL in the activity'),
    );
  }

  override getAttachment(): Promise<NodeJS.ReadableStream> {
    return Promise.reject(
      new NotSupportedError('getAttachment: download the attachment from its contentUrl'),
    );
  }

  #handler(logic: Logic) {
    return this.#core.handler((activity, reply) => this.#turn(activity, logic, reply));
  }

  /** One turn through the middleware and `logic` (errors to `onTurnError`); its streams end with it. */
  #turn(activity: ActivityLike, logic: Logic, reply?: Reply): Promise<void> {
    // The SDK's schema wants an ISO time and no empty service URL (these clouds have none).
    const { timestamp, serviceUrl, ...rest } = activity;
    const request = Activity.fromObject({
      ...rest,
      ...(serviceUrl ? { serviceUrl } : {}),
      ...(timestamp ? { timestamp: new Date(timestamp).toISOString() } : {}),
    });
    const context = new TurnContext(this, request);
    return this.#core.turn(context.turnState, reply, () => this.runMiddleware(context, logic));
  }
}

import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type BotPlatform,
  type BotSpec,
  ImbotError,
  type InboundMessage,
  type NodeRequestLike,
  NotSupportedError,
  type ReplyTarget,
  readNodeRequest,
  type StreamSession,
  type StreamSessionOptions,
  WebhookReceiver,
  type WebhookRequest,
  WebhookVerificationError,
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
import {
  activityToText,
  conversationReferenceFor,
  inboundToActivity,
  streamInfoOf,
  targetOf,
} from './activity.js';

export interface ImBotAdapterOptions {
  /** The cloud: `new TencentIm(…).platform`. */
  platform: BotPlatform;
  /** The bot accounts this adapter answers for (ids or specs); messages to others are ignored. */
  bots: (string | BotSpec)[];
  webhook?: {
    /** The callback token set in the cloud's console (Tencent). */
    token?: string;
    /** Larger bodies are refused with 413. Default 1 MiB. */
    maxBodyBytes?: number;
  };
  /** Options of the stream sessions that carry streamed replies. */
  stream?: StreamSessionOptions;
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

/** What the response object of Express, Restify or `node:http` offers. */
interface ResponseLike {
  writeHead?: (status: number, headers: Record<string, string>) => unknown;
  end: (body?: string) => unknown;
  status?: (status: number) => unknown;
  send?: (body: string) => unknown;
  setHeader?: (name: string, value: string) => unknown;
}

interface StreamState {
  target: ReplyTarget;
  session?: StreamSession;
  /** The cumulative text the bot has streamed so far; later updates must extend it. */
  shown: string;
  /** The bot sent text that does not extend what was shown: streaming stops, the final goes out plain. */
  diverged: boolean;
}

const TURN_STREAMS = Symbol('imbot.turnStreams');

/**
 * A Bot Framework `BotAdapter` for instant-messaging clouds: an existing BotBuilder bot (its
 * `ActivityHandler`, dialogs and middleware) runs on Tencent Cloud Chat robots through a
 * `BotPlatform`. Incoming callbacks are verified, de-duplicated and answered at once, then run as
 * turns; replies become messages, and `typing` activities with a `streaminfo` entity (the streaming
 * contract of Teams, teams-ai and the Agents SDK) become one streamed message that grows.
 *
 * @example
 * const adapter = new ImBotAdapter({ platform: im.platform, bots: ['@RBT#helper'] });
 * adapter.onTurnError = async (context, error) => { console.error(error); };
 * app.post('/im/webhook', (req, res) => adapter.process(req, res, (context) => bot.run(context)));
 */
export class ImBotAdapter extends BotAdapter {
  readonly platform: BotPlatform;
  readonly botIds: readonly string[];
  readonly #receiver: WebhookReceiver;
  readonly #maxBodyBytes: number;
  readonly #streamOptions: StreamSessionOptions | undefined;
  readonly #streams = new Map<string, StreamState>();

  constructor(options: ImBotAdapterOptions) {
    super();
    if (!options?.platform) throw new TypeError('ImBotAdapter needs a platform: new TencentIm(…).platform');
    this.platform = options.platform;
    this.botIds = options.bots.map((b) => (typeof b === 'string' ? b : b.userId));
    if (this.botIds.length === 0) throw new TypeError('ImBotAdapter needs at least one bot id in `bots`');
    this.#receiver = new WebhookReceiver({
      platform: this.platform,
      botIds: this.botIds,
      token: options.webhook?.token,
    });
    this.#maxBodyBytes = options.webhook?.maxBodyBytes ?? 1024 * 1024;
    this.#streamOptions = options.stream;
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
    let messages: InboundMessage[];
    try {
      messages = this.#receiver.accept(request).messages;
    } catch (error) {
      if (error instanceof WebhookVerificationError) return refusal(error);
      throw error;
    }
    const turns = Promise.all(messages.map((message) => this.#turn(inboundToActivity(message), logic))).then(
      () => undefined,
    );
    const answer = this.#receiver.answer;
    return {
      status: answer.status,
      headers: { 'content-type': answer.contentType },
      body: answer.body,
      turns,
    };
  }

  /**
   * Handles a webhook request from Express, Restify or `node:http`: reads the body (raw, or as
   * parsed by a body parser), answers, then runs the turns. Resolves once the answer is sent.
   */
  async process(req: NodeRequestLike, res: ResponseLike, logic: Logic): Promise<void> {
    let result: WebhookResult;
    try {
      const request = await readNodeRequest(req, this.#maxBodyBytes);
      const input: WebhookInput = { headers: request.headers, query: request.query };
      if (request.rawBody !== undefined) input.rawBody = request.rawBody;
      else input.body = request.parsedBody;
      result = await this.handleWebhook(input, logic);
    } catch (error) {
      result =
        error instanceof WebhookVerificationError
          ? refusal(error)
          : {
              status: 500,
              headers: { 'content-type': 'text/plain' },
              body: 'internal error',
              turns: Promise.resolve(),
            };
      if (!(error instanceof WebhookVerificationError)) console.error('[imbot]', error);
    }
    respond(res, result);
    result.turns.catch((error: unknown) =>
      console.error('[imbot] turn failed and no onTurnError handled it:', error),
    );
  }

  /** The same as `process`, under the name Bot Framework adapters use. */
  processActivity(req: NodeRequestLike, res: ResponseLike, logic: Logic): Promise<void> {
    return this.process(req, res, logic);
  }

  override async sendActivities(
    context: TurnContext,
    activities: Partial<Activity>[],
  ): Promise<ResourceResponse[]> {
    const responses: ResourceResponse[] = [];
    for (const activity of activities) responses.push(await this.#send(context, activity));
    return responses;
  }

  override async updateActivity(_context: TurnContext, activity: Partial<Activity>): Promise<void> {
    if (!this.platform.updateText)
      throw new NotSupportedError(`${this.platform.name} cannot edit a sent message`);
    if (!activity.id) throw new TypeError('updateActivity needs the id of the message to edit');
    await this.platform.updateText(targetOf(activity), activity.id, activityToText(activity));
  }

  override async deleteActivity(
    _context: TurnContext,
    reference: Partial<ConversationReference>,
  ): Promise<void> {
    if (!this.platform.deleteMessage)
      throw new NotSupportedError(`${this.platform.name} cannot recall a sent message`);
    if (!reference.activityId) throw new TypeError('deleteActivity needs the id of the message to recall');
    await this.platform.deleteMessage(targetOf(reference), reference.activityId);
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
      conversationReferenceFor({ botId, userId, channelId: channelId || this.platform.name }),
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
    return 'groupId' in target
      ? conversationReferenceFor({ botId, groupId: target.groupId, channelId: this.platform.name })
      : conversationReferenceFor({ botId, userId: target.userId, channelId: this.platform.name });
  }

  #onlyBot(what: string): string {
    if (this.botIds.length !== 1)
      throw new TypeError(`${what}: name the bot, this adapter has ${this.botIds.length}`);
    return this.botIds[0] as string;
  }

  /** One turn: middleware and logic; afterwards, streams the bot left open are finished. */
  async #turn(activity: Partial<Activity>, logic: Logic): Promise<void> {
    const context = new TurnContext(this, activity);
    const opened = new Set<string>();
    context.turnState.set(TURN_STREAMS, opened);
    try {
      await this.runMiddleware(context, logic);
    } finally {
      await Promise.all([...opened].map((id) => this.#finishStream(id)));
    }
  }

  async #send(context: TurnContext, activity: Partial<Activity>): Promise<ResourceResponse> {
    const info = streamInfoOf(activity);
    switch (activity.type) {
      case ActivityTypes.Typing:
        return info ? this.#streamUpdate(context, activity, info.streamId, info.streamType) : { id: '' };
      case ActivityTypes.Message:
      case undefined:
        if (info?.streamType === 'final' && info.streamId && this.#streams.has(info.streamId)) {
          return this.#streamFinal(activity, info.streamId);
        }
        return this.#message(activity);
      case 'delay':
        await sleep(typeof activity.value === 'number' ? activity.value : 1000);
        return { id: '' };
      default:
        // trace, event, invokeResponse, endOfConversation…: nothing to show on these clouds.
        return { id: '' };
    }
  }

  async #message(activity: Partial<Activity>): Promise<ResourceResponse> {
    const text = activityToText(activity);
    if (text === '') return { id: '' };
    const { messageId } = await this.platform.sendText(targetOf(activity), text);
    return { id: messageId };
  }

  /**
   * A streamed update: cumulative text, of which the part the user has not seen yet is written to the
   * stream session. Informative updates ("Searching…") have no place in these clouds' messages and
   * only reserve the stream id.
   */
  #streamUpdate(
    context: TurnContext,
    activity: Partial<Activity>,
    streamId: string | undefined,
    streamType: string | undefined,
  ): ResourceResponse {
    const id = streamId ?? randomUUID();
    let state = this.#streams.get(id);
    if (!state) {
      state = { target: targetOf(activity), shown: '', diverged: false };
      this.#streams.set(id, state);
      (context.turnState.get(TURN_STREAMS) as Set<string> | undefined)?.add(id);
    }
    if (streamType === 'informative' || state.diverged) return { id };
    const text = activity.text ?? '';
    if (!text.startsWith(state.shown)) {
      state.diverged = true;
      return { id };
    }
    const delta = text.slice(state.shown.length);
    if (delta !== '') {
      state.session ??= this.platform.openStream(state.target, this.#streamOptions);
      state.session.write(delta);
      state.shown = text;
    }
    return { id };
  }

  /** The closing `message` of a stream: the rest of the text, then the stream is finished. */
  async #streamFinal(activity: Partial<Activity>, streamId: string): Promise<ResourceResponse> {
    const state = this.#streams.get(streamId) as StreamState;
    this.#streams.delete(streamId);
    const text = activity.text ?? state.shown;
    if (!state.diverged && text.startsWith(state.shown) && state.session) {
      const result = await state.session.end(text.slice(state.shown.length) || undefined);
      if (result.undelivered !== '')
        throw result.error ?? new ImbotError('STREAM_FAILED', 'the streamed reply was not delivered');
    } else {
      // Nothing was streamed, or the bot rewrote what it had streamed: close, and send the final text plain.
      if (state.session) await state.session.end();
      if (text !== '') await this.platform.sendText(state.target, text);
    }
    if (activity.attachments?.length) await this.#message({ ...activity, text: '' });
    return { id: streamId };
  }

  async #finishStream(id: string): Promise<void> {
    const state = this.#streams.get(id);
    this.#streams.delete(id);
    if (state?.session && !state.session.closed) await state.session.end();
  }
}

function refusal(error: WebhookVerificationError): WebhookResult {
  return {
    status: error.status,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ error: error.code, problem: error.problem, message: error.message }),
    turns: Promise.resolve(),
  };
}

function respond(res: ResponseLike, result: WebhookResult): void {
  if (typeof res.writeHead === 'function') {
    res.writeHead(result.status, {
      ...result.headers,
      'content-length': String(Buffer.byteLength(result.body)),
    });
    res.end(result.body);
    return;
  }
  for (const [name, value] of Object.entries(result.headers)) res.setHeader?.(name, value);
  res.status?.(result.status);
  if (res.send) res.send(result.body);
  else res.end(result.body);
}

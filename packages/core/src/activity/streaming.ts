import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { StreamClosedError } from '../errors.js';
import { readText, type TextSource } from '../stream/source.js';
import type { ActivityLike, StreamInfo } from './protocol.js';

/**
 * What the streaming helper needs of a turn context: the Bot Framework's and the Agents SDK's
 * `TurnContext` both fit.
 */
export interface TurnContextLike {
  // biome-ignore lint/suspicious/noExplicitAny: each SDK types its own activity class here.
  sendActivity(activity: any): Promise<{ id?: string } | undefined>;
  readonly turnState: { get(key: unknown): unknown; set(key: unknown, value: unknown): unknown };
}

export interface StreamingResponseOptions {
  /** Least time between two streamed updates. Default 250 ms (the adapter coalesces further). */
  intervalMs?: number;
}

const STREAMING_RESPONSE = Symbol.for('imbot.streamingResponse');

/**
 * Streams a reply from bot code, with the shape teams-ai and Agents SDK users know. It sends the
 * standard streaming activities (a `typing` with the cumulative text and a `streaminfo` entity per
 * update, then a `message` with `streamType: 'final'`) through `context.sendActivity`, so middleware,
 * transcript loggers and `TestAdapter` see them, and `ImBotAdapter` turns them into one growing
 * message. Updates are queued and coalesced: at most one every `intervalMs`.
 *
 * Await `endStream()` before the turn handler returns: the context is revoked after the turn.
 */
export class StreamingResponse {
  readonly #context: TurnContextLike;
  readonly #intervalMs: number;
  #message = '';
  #sequence = 0;
  #streamId: string | undefined;
  #updatesSent = 0;
  #queue: Promise<void> = Promise.resolve();
  #flushQueued = false;
  #ended = false;
  /** The first queued update that failed: the rest still go out, and `endStream()` throws it. */
  #failure: { error: unknown } | undefined;

  constructor(context: TurnContextLike, options: StreamingResponseOptions = {}) {
    this.#context = context;
    this.#intervalMs = options.intervalMs ?? 250;
  }

  /** The id of the stream: the id the first update was given. */
  get streamId(): string | undefined {
    return this.#streamId;
  }

  /** Updates sent so far. */
  get updatesSent(): number {
    return this.#updatesSent;
  }

  /** The text streamed so far. */
  get message(): string {
    return this.#message;
  }

  /** Queues a status line ("Searching the docs…"); only before any text, as the contract says. */
  queueInformativeUpdate(text: string): void {
    this.#assertOpen();
    if (this.#message !== '') return;
    this.#enqueue(() => this.#send({ type: 'typing', text }, 'informative'));
  }

  /** Queues a chunk of the reply; chunks queued between two updates go out together. */
  queueTextChunk(text: string): void {
    this.#assertOpen();
    if (text === '') return;
    this.#message += text;
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    this.#enqueue(async () => {
      if (this.#updatesSent > 0) await sleep(this.#intervalMs);
      this.#flushQueued = false;
      await this.#send({ type: 'typing', text: this.#message }, 'streaming');
    });
  }

  /** Resolves when every queued update has been sent or has failed (`endStream()` reports failures). */
  waitForQueue(): Promise<void> {
    return this.#queue;
  }

  /**
   * Sends what is queued, then the final message with the whole text; the stream is closed. Throws
   * the first update that failed, after the final message went out, so the turn's `onTurnError` sees it.
   */
  async endStream(): Promise<void> {
    this.#assertOpen();
    this.#ended = true;
    await this.#queue;
    try {
      await this.#send({ type: 'message', text: this.#message }, 'final');
    } catch (error) {
      this.#failure ??= { error };
    }
    if (this.#failure) throw this.#failure.error;
  }

  #assertOpen(): void {
    if (this.#ended) throw new StreamClosedError('the stream has ended: endStream() was called');
  }

  /** Queues `step`; a step that fails is recorded, never left unobserved, and the queue goes on. */
  #enqueue(step: () => Promise<void>): void {
    this.#queue = this.#queue.then(step).catch((error: unknown) => {
      this.#failure ??= { error };
    });
  }

  async #send(activity: ActivityLike, streamType: NonNullable<StreamInfo['streamType']>): Promise<void> {
    const info: StreamInfo = { type: 'streaminfo', streamType };
    if (streamType !== 'final') info.streamSequence = ++this.#sequence;
    if (this.#streamId) info.streamId = this.#streamId;
    const { type: _type, ...channelInfo } = info;
    const response = await this.#context.sendActivity({
      ...activity,
      entities: [info],
      channelData: channelInfo,
    });
    this.#streamId ??= response?.id || randomUUID();
    this.#updatesSent++;
  }
}

/** The turn's `StreamingResponse`, made on first use and kept in the turn state. */
export function getStreamingResponse(
  context: TurnContextLike,
  options?: StreamingResponseOptions,
): StreamingResponse {
  let response = context.turnState.get(STREAMING_RESPONSE) as StreamingResponse | undefined;
  if (!response) {
    response = new StreamingResponse(context, options);
    context.turnState.set(STREAMING_RESPONSE, response);
  }
  return response;
}

/**
 * Streams everything `source` yields as the reply, then ends the stream; resolves with the whole
 * text. Takes an `AsyncIterable<string>` or a `ReadableStream<string>` (an AI SDK `textStream`).
 *
 * @example
 * await streamText(context, streamText({ model, prompt: context.activity.text }).textStream);
 */
export async function streamText(
  context: TurnContextLike,
  source: TextSource,
  options?: StreamingResponseOptions,
): Promise<string> {
  const response = getStreamingResponse(context, options);
  for await (const chunk of readText(source)) response.queueTextChunk(chunk);
  await response.endStream();
  return response.message;
}

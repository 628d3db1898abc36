import * as z from 'zod';
import { WebhookVerificationError } from '../errors.js';

/**
 * A message as RongCloud's full message routing (全量消息路由) posts it to the app's server: a form
 * body with the sender, the receiver (a user, or a group's id), the message type and content, when
 * it was sent, and its `msgUID`. With "route messages sent through the Server API" switched on in
 * the console, a bot's own messages come this way too, which is how a stream whose first answer was
 * lost is found again.
 */
export interface RoutedMessage {
  msgUID: string;
  from: string;
  /** The receiving user, or for a group message the group's id. */
  to: string;
  /** `PERSON`, `GROUP`, … */
  channelType: string;
  objectName: string;
  /** The message content, parsed from its JSON (an empty object if it is not JSON). */
  content: Record<string, unknown>;
  /** Milliseconds since the epoch, as the cloud stamped it. */
  time: number;
}

const routeForm = z.object({
  fromUserId: z.string().min(1),
  toUserId: z.string().min(1),
  objectName: z.string().min(1),
  content: z.string(),
  channelType: z.string().min(1),
  msgTimestamp: z.string().regex(/^\d+$/),
  msgUID: z.string().min(1),
});

/** Whether a callback body is a routed message (form fields with a `msgUID`) rather than a bot webhook. */
export function isRoutedBody(contentType: string | undefined, body: unknown): boolean {
  if (contentType?.includes('application/x-www-form-urlencoded')) return true;
  return typeof body === 'object' && body !== null && 'msgUID' in body && 'msgTimestamp' in body;
}

/** Parses a routed message from its form body (or from fields a body parser already read). */
export function parseRoutedMessage(body: string | Record<string, unknown>): RoutedMessage {
  const fields = typeof body === 'string' ? Object.fromEntries(new URLSearchParams(body)) : body;
  const parsed = routeForm.safeParse(fields);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new WebhookVerificationError(
      'malformed',
      `routed message field ${issue?.path.join('.')}: ${issue?.message}`,
    );
  }
  const f = parsed.data;
  let content: Record<string, unknown> = {};
  try {
    const value = JSON.parse(f.content) as unknown;
    if (typeof value === 'object' && value !== null && !Array.isArray(value))
      content = value as Record<string, unknown>;
  } catch {}
  return {
    msgUID: f.msgUID,
    from: f.fromUserId,
    to: f.toUserId,
    channelType: f.channelType,
    objectName: f.objectName,
    content,
    time: Number(f.msgTimestamp),
  };
}

/** How long a routed stream message is remembered: longer than any read-back waits for one. */
const KEEP_MS = 120_000;
/** Routed stream messages remembered at most: the oldest is forgotten first. */
const KEEP_MAX = 20_000;

interface Waiter {
  matches(message: RoutedMessage): boolean;
  found(message: RoutedMessage): void;
}

/**
 * The streamed messages the cloud has routed back lately (`RC:StreamMsg` only, two minutes, at most
 * 20,000), and those the client's streams claimed, for the stream transports of one client to look in. A transport whose opening call's
 * answer was lost asks for the message that call would have opened, waiting a little for its route
 * to arrive; one that decided the call was not applied watches for a late route, to recall it.
 */
export class RoutedStreams {
  readonly #messages: RoutedMessage[] = [];
  readonly #waiters = new Set<Waiter>();
  /** Messages a stream of this client opened or adopted, in the order they were claimed. */
  readonly #claimed = new Set<string>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Records a routed message (only streamed ones are kept) and tells whoever waits for it. */
  record(message: RoutedMessage): void {
    if (message.objectName !== 'RC:StreamMsg') return;
    this.#forgetOld();
    this.#messages.push(message);
    if (this.#messages.length > KEEP_MAX) this.#messages.shift();
    for (const waiter of this.#waiters) if (waiter.matches(message)) waiter.found(message);
  }

  /**
   * The routed messages `matches` accepts; if there are none yet, waits up to `waitMs` for the first
   * (then answers with every match known by then).
   */
  find(matches: (message: RoutedMessage) => boolean, waitMs: number): Promise<RoutedMessage[]> {
    const known = this.#messages.filter(matches);
    if (known.length > 0 || waitMs <= 0) return Promise.resolve(known);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        matches,
        found: () => done(),
      };
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(waiter);
        resolve(this.#messages.filter(matches));
      };
      const timer = setTimeout(done, waitMs);
      timer.unref?.();
      this.#waiters.add(waiter);
    });
  }

  /**
   * Marks a message as one a stream of this client opened (its answer came) or adopted: a read-back
   * never takes it for the message of another lost opening call, nor recalls it.
   */
  claim(msgUID: string): void {
    this.#claimed.add(msgUID);
    if (this.#claimed.size > KEEP_MAX) this.#claimed.delete(this.#claimed.values().next().value as string);
  }

  /** Whether a stream of this client opened or adopted the message. */
  claimed(msgUID: string): boolean {
    return this.#claimed.has(msgUID);
  }

  /** Calls `found` once for the first routed message `matches` accepts within `forMs`. */
  watch(
    matches: (message: RoutedMessage) => boolean,
    forMs: number,
    found: (message: RoutedMessage) => void,
  ): void {
    const waiter: Waiter = {
      matches,
      found: (message) => {
        clearTimeout(timer);
        this.#waiters.delete(waiter);
        found(message);
      },
    };
    const timer = setTimeout(() => this.#waiters.delete(waiter), forMs);
    timer.unref?.();
    this.#waiters.add(waiter);
  }

  #forgetOld(): void {
    const oldest = this.now() - KEEP_MS;
    let drop = 0;
    while (drop < this.#messages.length && (this.#messages[drop] as RoutedMessage).time < oldest) drop++;
    if (drop > 0) this.#messages.splice(0, drop);
  }
}

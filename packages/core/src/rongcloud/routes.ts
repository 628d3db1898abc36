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

/** How long a routed stream message (and a claim) is remembered: longer than any read-back waits. */
export const ROUTE_KEEP_MS = 120_000;
/** Routed stream messages remembered at most in memory: the oldest is forgotten first. */
const KEEP_MAX = 20_000;

/** Which routed messages a read-back looks at: from a bot to a user or group, sent since a time (ms). */
export interface RouteQuery {
  from: string;
  to: string;
  since: number;
}

/**
 * Where a client keeps the streamed messages the cloud routed back (`RC:StreamMsg` only, for two
 * minutes) and the ones its streams claimed, so that a stream whose opening call's answer was lost
 * finds the message it opened. `RoutedStreams` keeps them in the process; `RedisRouteStore` from
 * `@imbot/redis` shares them between processes, so that the replica a route reaches need not be the
 * one streaming, and a survivor can take over a dead process's opening call.
 */
export interface RouteStore {
  /** Keeps a routed message (streamed ones only); whoever waits for it hears of it. */
  record(message: RoutedMessage): void | Promise<void>;
  /**
   * The messages routed from `where.from` to `where.to` at `where.since` or later, not claimed, that
   * `accept` takes; if there are none yet, waits up to `waitMs` for one (then answers with all).
   * `signal` ends the wait early: it answers with what it has then.
   */
  find(
    where: RouteQuery,
    accept: (message: RoutedMessage) => boolean,
    waitMs: number,
    signal?: AbortSignal,
  ): Promise<RoutedMessage[]>;
  /**
   * A stream opened the message (its answer came) or adopted it: no read-back takes it for the
   * message of another lost opening call, nor recalls it.
   */
  claim(where: Omit<RouteQuery, 'since'>, msgUID: string): void | Promise<void>;
  /** Stops waiting and lets go of what it holds. */
  close?(): Promise<void>;
}

interface Waiter {
  matches(message: RoutedMessage): boolean;
  found(): void;
}

/**
 * A `RouteStore` in the process: the streamed messages routed in the last two minutes (at most
 * 20,000) and the claims of this client's streams. A waiting read-back is told of a route the moment
 * it is recorded.
 */
export class RoutedStreams implements RouteStore {
  readonly #messages: RoutedMessage[] = [];
  readonly #waiters = new Set<Waiter>();
  /** Messages a stream of this client opened or adopted, in the order they were claimed. */
  readonly #claimed = new Set<string>();

  constructor(private readonly now: () => number = Date.now) {}

  record(message: RoutedMessage): void {
    if (message.objectName !== 'RC:StreamMsg') return;
    this.#forgetOld();
    this.#messages.push(message);
    if (this.#messages.length > KEEP_MAX) this.#messages.shift();
    for (const waiter of this.#waiters) if (waiter.matches(message)) waiter.found();
  }

  find(
    where: RouteQuery,
    accept: (message: RoutedMessage) => boolean,
    waitMs: number,
    signal?: AbortSignal,
  ): Promise<RoutedMessage[]> {
    const matches = (m: RoutedMessage) =>
      m.from === where.from &&
      m.to === where.to &&
      m.time >= where.since &&
      !this.#claimed.has(m.msgUID) &&
      accept(m);
    const known = this.#messages.filter(matches);
    if (known.length > 0 || waitMs <= 0 || signal?.aborted) return Promise.resolve(known);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.#waiters.delete(waiter);
        resolve(this.#messages.filter(matches));
      };
      const waiter: Waiter = { matches, found: done };
      const timer = setTimeout(done, waitMs);
      timer.unref?.();
      signal?.addEventListener('abort', done, { once: true });
      this.#waiters.add(waiter);
    });
  }

  claim(_where: Omit<RouteQuery, 'since'>, msgUID: string): void {
    this.#claimed.add(msgUID);
    if (this.#claimed.size > KEEP_MAX) this.#claimed.delete(this.#claimed.values().next().value as string);
  }

  #forgetOld(): void {
    const oldest = this.now() - ROUTE_KEEP_MS;
    let drop = 0;
    while (drop < this.#messages.length && (this.#messages[drop] as RoutedMessage).time < oldest) drop++;
    if (drop > 0) this.#messages.splice(0, drop);
  }
}

import type { InboundMessage } from '../platform.js';

/**
 * Durable inbound work, for receivers running as several replicas (`RedisInbox` in `@imbot/redis`):
 * an accepted user message is recorded before the cloud gets its answer, and is handled by whichever
 * replica takes it, again by another if that one dies before it is done.
 */
export interface Inbox {
  /** Records `message` durably; the cloud is answered only once this resolves. */
  add(message: InboundMessage): Promise<void>;
  /**
   * Starts handing recorded messages to `deliver`, in order per conversation; a message counts as
   * handled once the promise `deliver` returns settles.
   */
  start(deliver: (message: InboundMessage) => Promise<void>): void;
  /** Stops taking messages; those not handled yet go to other replicas. */
  close(): Promise<void>;
}

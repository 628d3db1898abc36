import { type Emulator, startEmulator } from '@imbot/emulator';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RongCloud } from '../src/index.js';
import {
  type RoutedMessage,
  RoutedStreams,
  type RouteQuery,
  type RouteStore,
} from '../src/rongcloud/index.js';

/**
 * `client.close()` leaves nothing running: the watch a RongCloud stream keeps, for a minute, for the
 * late route of an opening call it judged not applied, ends when the client closes, its wait with it.
 */

const rongApp = { appKey: 'close-key', appSecret: 'close-secret' };
const API = '/v3/message/private/publish_stream.json';

/** The in-process store, counting the waits under way. */
class WatchedRoutes implements RouteStore {
  readonly #inner = new RoutedStreams();
  waiting = 0;

  record(message: RoutedMessage): void {
    this.#inner.record(message);
  }

  claim(where: Omit<RouteQuery, 'since'>, msgUID: string): void {
    this.#inner.claim(where, msgUID);
  }

  async find(
    where: RouteQuery,
    accept: (message: RoutedMessage) => boolean,
    waitMs: number,
    signal?: AbortSignal,
  ): Promise<RoutedMessage[]> {
    this.waiting++;
    try {
      return await this.#inner.find(where, accept, waitMs, signal);
    } finally {
      this.waiting--;
    }
  }
}

let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator({ rongcloud: rongApp });
});
afterAll(async () => {
  await emulator.close();
});

it('after RongCloud.close(), no late-route watch waits on', async () => {
  const routes = new WatchedRoutes();
  const rong = new RongCloud({
    ...rongApp,
    baseUrl: emulator.url,
    retry: { retries: 0 },
    messageRouting: { waitMs: 50 },
    routes,
  });
  // The opening call is lost before it is applied; no route comes, so it is judged not applied and
  // made again, and the watch for a late route of the first starts (for a minute).
  emulator.faults.failNext(API, 1, 'reset-before');
  const session = rong.openStream({ from: 'bot', to: 'ann' });
  session.write('Hello');
  expect(await session.end(' world.')).toMatchObject({ reason: 'completed', fallback: false, messages: 1 });
  await expect.poll(() => routes.waiting).toBe(1);
  const closing = performance.now();
  await rong.close();
  await expect.poll(() => routes.waiting, { timeout: 500 }).toBe(0);
  expect(performance.now() - closing).toBeLessThan(500);
});

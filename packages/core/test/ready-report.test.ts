import { type Emulator, startEmulator } from '@imbot/emulator';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createFetchHandler, TencentIm } from '../src/index.js';

/**
 * A receiver whose bots cannot be ensured (a wrong secret key) says so once: through `ready` when the
 * app awaits it, through the logger when it does not. Both at once printed the error twice.
 */

const TENCENT = { sdkAppId: 1400000000, secretKey: 'ready-report-key', admin: 'administrator' };
let emulator: Emulator;
let im: TencentIm;

beforeAll(async () => {
  emulator = await startEmulator({ tencent: TENCENT });
  im = new TencentIm({ ...TENCENT, secretKey: 'a-wrong-key', baseUrl: emulator.url, callbackToken: 't' });
});
afterAll(async () => {
  await im.close();
  await emulator.close();
});

function receiver() {
  const logger = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() };
  const onError = vi.fn();
  const handler = createFetchHandler({
    platform: im.platform,
    bots: [{ userId: '@RBT#ready' }],
    onMessage: () => undefined,
    logger,
    onError,
    ensure: { retries: 0 },
  });
  return { handler, logger, onError };
}

describe("a receiver's start-up failure", () => {
  it('reaches an app that awaits ready there alone, not in the log as well', async () => {
    const { handler, logger, onError } = receiver();
    await expect(handler.ready).rejects.toMatchObject({ errorCode: 70009 });
    expect(logger.error).not.toHaveBeenCalled();
    expect(onError).toHaveBeenCalledTimes(1);
    await handler.close();
  });

  it('is logged once as an error when the app never awaits ready', async () => {
    const { handler, logger } = receiver();
    await vi.waitFor(() => expect(logger.error).toHaveBeenCalledTimes(1));
    expect(logger.error.mock.calls[0]?.[1]).toMatch(/70009/);
    expect((await (await handler(new Request('http://bot/', { method: 'GET' }))).json()).status).toBe(
      'failed',
    );
    await handler.close();
  });
});

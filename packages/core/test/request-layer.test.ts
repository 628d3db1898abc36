import { type Emulator, startEmulator } from '@imbot/emulator';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ImbotError, RongCloud, TencentIm, TimeoutError } from '../src/index.js';

/**
 * Every call of both clouds goes through one request layer: a caller's `signal`, the deadline, the
 * retry policy and failover to the backup domain behave the same whichever cloud answers. One table
 * of cases, run against each cloud on the emulator, over each transport (undici's dispatch and the
 * runtime's `fetch`).
 */

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator();
});
afterAll(async () => {
  await emulator.close();
});
beforeEach(() => {
  emulator.reset();
});

type Mode = 'idempotent' | 'unapplied';

interface Cloud {
  name: string;
  /** The API the cases call, as the emulator's faults name it. */
  api: string;
  /** A transient refusal from the cloud's own code table. */
  transient: number;
  client(options: { timeoutMs?: number; transport?: 'undici' | 'fetch' }): {
    call(mode: Mode, signal?: AbortSignal): Promise<unknown>;
    readonly currentOrigin: string;
    close(): Promise<void>;
  };
  calls(): { api: string }[];
  failPrimary(how: 'http-503' | null): void;
  primary(): string;
  backup(): string;
}

const retry = { retries: 2, minDelayMs: 1, maxDelayMs: 5 };

const clouds: Cloud[] = [
  {
    name: 'Tencent Cloud Chat',
    api: 'openim_robot_http_svc/get_all_robots',
    transient: 10002,
    client: (options) => {
      const im = new TencentIm({
        sdkAppId: emulator.tencent.sdkAppId,
        admin: emulator.tencent.admin,
        secretKey: emulator.tencent.secretKey,
        baseUrl: emulator.url,
        backupBaseUrl: emulator.tencent.backupUrl,
        retry,
        ...options,
      });
      return {
        call: (mode, signal) =>
          im.call('openim_robot_http_svc/get_all_robots', {}, { retry: mode, ...(signal ? { signal } : {}) }),
        get currentOrigin() {
          return im.currentOrigin;
        },
        close: () => im.close(),
      };
    },
    calls: () => emulator.tencent.calls(),
    failPrimary: (how) => emulator.tencent.failOrigin('primary', how),
    primary: () => emulator.url,
    backup: () => emulator.tencent.backupUrl,
  },
  {
    name: 'RongCloud',
    api: '/v3/bot/query.json',
    transient: 1000,
    client: (options) => {
      const rong = new RongCloud({
        appKey: emulator.rongcloud.appKey,
        appSecret: emulator.rongcloud.appSecret,
        baseUrl: emulator.url,
        backupBaseUrl: emulator.rongcloud.backupUrl,
        retry,
        ...options,
      });
      return {
        call: (mode, signal) =>
          rong.call(
            '/v3/bot/query.json',
            { json: { page: 1, pageSize: 10 } },
            { retry: mode, ...(signal ? { signal } : {}) },
          ),
        get currentOrigin() {
          return rong.currentOrigin;
        },
        close: () => rong.close(),
      };
    },
    calls: () => emulator.rongcloud.calls(),
    failPrimary: (how) => emulator.rongcloud.failOrigin('primary', how),
    primary: () => emulator.url,
    backup: () => emulator.rongcloud.backupUrl,
  },
];

async function failure(promise: Promise<unknown>): Promise<ImbotError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ImbotError);
  return error as ImbotError;
}

const cases = clouds.flatMap((cloud) =>
  (['undici', 'fetch'] as const).map((transport) => ({ ...cloud, transport })),
);

describe.each(cases)('the request layer on $name over $transport', (cloud) => {
  const mine = () => cloud.calls().filter((c) => c.api === cloud.api);

  it('sends nothing for a signal aborted before the call, and ends a hanging call when it aborts', async () => {
    const client = cloud.client({ transport: cloud.transport });
    const aborted = await failure(client.call('idempotent', AbortSignal.abort()));
    expect(aborted.code).toBe('ABORTED');
    expect(mine()).toHaveLength(0);

    emulator.faults.failNext(cloud.api, 1, 'hang');
    const controller = new AbortController();
    const call = failure(client.call('idempotent', controller.signal));
    await expect.poll(() => mine().length).toBe(1);
    controller.abort();
    expect((await call).code).toBe('ABORTED');
    // Aborted means not retried.
    expect(mine()).toHaveLength(1);
    await client.close();
  });

  it('times out a call with no answer: retried when idempotent, thrown when its outcome is unknown', async () => {
    const client = cloud.client({ timeoutMs: 200, transport: cloud.transport });
    emulator.faults.failNext(cloud.api, 1, 'hang');
    await client.call('idempotent');
    expect(mine()).toHaveLength(2);

    emulator.faults.failNext(cloud.api, 1, 'hang');
    const error = await failure(client.call('unapplied'));
    expect(error).toBeInstanceOf(TimeoutError);
    expect(mine()).toHaveLength(3);
    await client.close();
  });

  it("retries the cloud's transient refusal in either mode, until the policy's retries are spent", async () => {
    const client = cloud.client({ transport: cloud.transport });
    emulator.faults.failNext(cloud.api, 2, { errorCode: cloud.transient });
    await client.call('unapplied');
    expect(mine()).toHaveLength(3);

    emulator.faults.failNext(cloud.api, 3, { errorCode: cloud.transient });
    const error = await failure(client.call('idempotent'));
    expect(error).toMatchObject({ errorCode: cloud.transient, retryable: true });
    expect(mine()).toHaveLength(6);
    await client.close();
  });

  it('fails over to the backup domain on 503 and stays there', async () => {
    const client = cloud.client({ transport: cloud.transport });
    expect(client.currentOrigin).toBe(cloud.primary());
    cloud.failPrimary('http-503');
    await client.call('unapplied');
    expect(client.currentOrigin).toBe(cloud.backup());
    cloud.failPrimary(null);
    await client.call('unapplied');
    expect(client.currentOrigin).toBe(cloud.backup());
    await client.close();
  });
});

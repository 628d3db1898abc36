import * as diagnostics from 'node:diagnostics_channel';
import { inspect } from 'node:util';
import { type Emulator, startEmulator } from '@imbot/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BotReceiver,
  createFetchHandler,
  genUserSig,
  RongCloud,
  type RongCloudApiError,
  TencentIm,
  type TencentImOptions,
  WebhookPipeline,
} from '../src/index.js';

const SDK_APP_ID = 1400000000;
const SECRET_KEY = 'c2VjcmV0LWtleS1uZXZlci10by1iZS1zZWVu-5bd2850fff3ecb11d7c8';
const ADMIN = 'administrator';
const APP_SECRET = 'rong-app-secret-never-to-be-seen';
const CALLBACK_TOKEN = 'callback-token-never-to-be-seen';

/** Every string reachable from an error: message, stack, own properties (hidden ones too), causes. */
function everythingIn(error: unknown): string {
  const seen = new Set<unknown>();
  const parts: string[] = [inspect(error, { showHidden: true, depth: 8 })];
  const walk = (value: unknown, depth: number) => {
    if (depth > 8 || value === null || seen.has(value)) return;
    if (typeof value === 'string') parts.push(value);
    if (typeof value !== 'object' && typeof value !== 'function') return;
    seen.add(value);
    for (const key of Object.getOwnPropertyNames(value)) {
      walk((value as Record<string, unknown>)[key], depth + 1);
    }
  };
  walk(error, 0);
  try {
    parts.push(JSON.stringify(error));
  } catch {
    // circular: already walked
  }
  return parts.join('\n');
}

/** The error `promise` fails with; the test fails if it succeeds. */
async function failure<E>(promise: Promise<unknown>): Promise<E> {
  try {
    await promise;
  } catch (error) {
    return error as E;
  }
  throw new Error('expected the call to fail');
}

let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator({
    tencent: { sdkAppId: SDK_APP_ID, secretKey: SECRET_KEY, admin: ADMIN },
    rongcloud: { appKey: 'rong-key', appSecret: APP_SECRET },
  });
});
afterAll(async () => {
  await emulator.close();
});

describe('secrets', () => {
  it('appear in no thrown error, on any path', async () => {
    // Every UserSig the clients send, as it goes out on the wire (undici's request channel).
    const sent = new Set<string>();
    const onRequest = (message: unknown) => {
      const { path } = (message as { request: { path: string } }).request;
      const usersig = new URLSearchParams(path.slice(path.indexOf('?') + 1)).get('usersig');
      if (usersig) sent.add(usersig);
    };
    diagnostics.subscribe('undici:request:create', onRequest);
    const options: TencentImOptions = {
      sdkAppId: SDK_APP_ID,
      admin: ADMIN,
      secretKey: SECRET_KEY,
      baseUrl: emulator.url,
      timeoutMs: 50,
      retry: { retries: 1, minDelayMs: 0, maxDelayMs: 0 },
    };
    const im = new TencentIm(options);
    const refused = new TencentIm({ ...options, baseUrl: 'http://127.0.0.1:9' });
    const wrongKey = new TencentIm({ ...options, secretKey: `${SECRET_KEY}-wrong` });
    await im.createRobot({ userId: '@RBT#1' });
    const api = (name: string) => `openim_robot_http_svc/${name}`;
    // A cloud that quotes the request back, credentials included.
    emulator.faults.failNext(api('create_robot'), 1, {
      errorCode: 10004,
      errorInfo: `bad request {query} key=${SECRET_KEY}`,
    });
    emulator.faults.failNext(api('get_all_robots'), 5, 'http-502');
    emulator.faults.failNext(api('send_stream_msg'), 1, 'reset-after');
    emulator.faults.failNext(api('delete_robot'), 5, 'hang');
    emulator.faults.failNext('openim/sendmsg', 5, 'malformed');
    emulator.faults.failNext('profile/portrait_set', 5, { errorCode: 70001 });
    const paths: Promise<unknown>[] = [
      im.createRobot({ userId: '@RBT#2' }), // cloud error quoting the URL and the key
      im.getAllRobots(), // HTTP 502
      im.sendStreamMsg({ from: '@RBT#1', to: 'u', chunk: 'x' }), // reset connection
      im.deleteRobot('@RBT#1'), // timeout
      im.sendMsg({ to: 'u', text: 'x' }), // malformed answer
      im.setProfile('@RBT#1', { nick: 'n' }), // expired UserSig, renewed, expired again
      im.createRobot({ userId: 'no-prefix' }), // validation
      refused.getAllRobots(), // connection refused
      wrongKey.getAllRobots(), // 70009
    ];
    const errors = await Promise.all(
      paths.map((p) =>
        p.then(
          () => undefined,
          (error: unknown) => error,
        ),
      ),
    );
    expect(errors.every((e) => e instanceof Error)).toBe(true);
    diagnostics.unsubscribe('undici:request:create', onRequest);
    // The working key's UserSig, its renewal after 70001, and the wrong key's.
    expect(sent.size).toBeGreaterThanOrEqual(3);
    const usersigs = [...sent];
    for (const error of errors) {
      const text = everythingIn(error);
      expect(text).not.toContain(SECRET_KEY);
      for (const usersig of usersigs) {
        expect(text).not.toContain(usersig);
        expect(text).not.toContain(encodeURIComponent(usersig));
      }
    }
    // The cloud's words still reach the error, with the credentials cut out.
    expect((errors[0] as Error).message).toMatch(
      /bad request sdkappid=1400000000&identifier=administrator&usersig=\[redacted\]&random=\d+&contenttype=json key=\[redacted\]/,
    );
    await Promise.all([im.close(), refused.close(), wrongKey.close()]);
  });

  it('are in no public object: console.log, util.inspect and JSON.stringify show none', async () => {
    const im = new TencentIm({
      sdkAppId: SDK_APP_ID,
      admin: ADMIN,
      secretKey: SECRET_KEY,
      baseUrl: emulator.url,
      callbackToken: CALLBACK_TOKEN,
    });
    const rong = new RongCloud({ appKey: 'rong-key', appSecret: APP_SECRET, baseUrl: emulator.url });
    await im.getAllRobots(); // a UserSig is made and held
    const receiving = { bots: [{ userId: '@RBT#1' }], onMessage: () => undefined };
    const fetchHandler = createFetchHandler({ platform: im.platform, ...receiving });
    const receiver = new BotReceiver({
      platform: rong.platform,
      bots: [{ userId: 'bot1' }],
      onMessage: () => undefined,
    });
    const legacy = new WebhookPipeline({
      platform: new TencentIm({
        sdkAppId: SDK_APP_ID,
        admin: ADMIN,
        secretKey: SECRET_KEY,
        baseUrl: emulator.url,
      }).platform,
      webhook: { token: CALLBACK_TOKEN },
    });
    const objects = [
      im,
      im.platform,
      rong,
      rong.platform,
      im.openStream({ from: '@RBT#1', to: 'u' }),
      fetchHandler,
      receiver,
      receiver.pipeline,
      legacy,
    ];
    for (const object of objects) {
      const text = `${inspect(object, { depth: 10, showHidden: true })}${JSON.stringify(object)}`;
      expect(text).not.toContain(SECRET_KEY);
      expect(text).not.toContain(APP_SECRET);
      expect(text).not.toContain(CALLBACK_TOKEN);
    }
    await Promise.all([im.close(), rong.close(), fetchHandler.close(), receiver.pipeline.close()]);
  });

  it('are cut out of what the cloud quotes back, percent-encoded or not', async () => {
    // A UserSig with '*' in it, which a URL may carry as %2A or %2a.
    let userSig = '';
    for (let ttl = 86_400; !userSig.includes('*'); ttl++) {
      userSig = genUserSig({
        sdkAppId: SDK_APP_ID,
        secretKey: SECRET_KEY,
        userId: ADMIN,
        expireSeconds: ttl,
      });
    }
    const im = new TencentIm({
      sdkAppId: SDK_APP_ID,
      admin: ADMIN,
      userSig: () => userSig,
      baseUrl: emulator.url,
    });
    const upper = userSig.replaceAll('*', '%2A');
    const lower = userSig.replaceAll('*', '%2a');
    emulator.faults.failNext('openim_robot_http_svc/get_all_robots', 1, {
      errorCode: 10004,
      errorInfo: `bad usersig ${upper} or ${lower}`,
    });
    const tencentError = await failure<Error>(im.getAllRobots());
    expect(tencentError.message).toContain('bad usersig [redacted] or [redacted]');
    for (const form of [userSig, upper, lower]) expect(everythingIn(tencentError)).not.toContain(form);

    const rong = new RongCloud({ appKey: 'rong-key', appSecret: APP_SECRET, baseUrl: emulator.url });
    emulator.faults.failNext('/v3/bot/get.json', 1, {
      errorCode: 1002,
      errorInfo: `bad {headers} ${APP_SECRET}`,
    });
    const rongError = await failure<RongCloudApiError>(rong.getBots(['x']));
    const text = everythingIn(rongError);
    expect(rongError.errorMessage).toContain('"signature":"[redacted]"');
    expect(text).not.toContain(APP_SECRET);
    expect(text).not.toMatch(/"signature":"[0-9a-f]{40}"/);
    await Promise.all([im.close(), rong.close()]);
  });
});

describe('keys derived from the app’s secret', () => {
  it('differ by purpose and by app, are never the secret, and need a secret to exist', async () => {
    const tencent = new TencentIm({
      sdkAppId: SDK_APP_ID,
      secretKey: SECRET_KEY,
      admin: ADMIN,
      region: 'singapore',
    });
    const other = new TencentIm({
      sdkAppId: SDK_APP_ID + 1,
      secretKey: SECRET_KEY,
      admin: ADMIN,
      region: 'singapore',
    });
    const rong = new RongCloud({ appKey: 'key', appSecret: APP_SECRET, region: 'singapore' });
    const bySig = new TencentIm({
      sdkAppId: SDK_APP_ID,
      userSig: () => 'sig',
      admin: ADMIN,
      region: 'singapore',
    });
    try {
      const a = (await tencent.platform.deriveKey?.('buttons')) as Buffer;
      expect(a).toHaveLength(32);
      expect(a.equals((await tencent.platform.deriveKey?.('buttons')) as Buffer)).toBe(true);
      expect(a.equals((await tencent.platform.deriveKey?.('other')) as Buffer)).toBe(false);
      expect(a.equals((await other.platform.deriveKey?.('buttons')) as Buffer)).toBe(false);
      expect(a.toString('latin1')).not.toContain(SECRET_KEY);
      expect(await rong.platform.deriveKey?.('buttons')).toHaveLength(32);
      expect(await bySig.platform.deriveKey?.('buttons')).toBeUndefined();
    } finally {
      await Promise.all([tencent.close(), other.close(), rong.close(), bySig.close()]);
    }
  });
});

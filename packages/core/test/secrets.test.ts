import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TencentIm, type TencentImOptions } from '../src/index.js';
import { ADMIN, type FakeTencent, SDK_APP_ID, SECRET_KEY, startFakeTencent } from './tencent-server.js';

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

let server: FakeTencent;

beforeAll(async () => {
  server = await startFakeTencent();
  server.on('openim_robot_http_svc/create_robot', (_, n) => ({
    ActionStatus: 'FAIL',
    ErrorCode: 10004,
    // A cloud that quotes the request back, credentials included.
    ErrorInfo: `bad request ${server.calls[n]?.query.toString()} key=${SECRET_KEY}`,
  }));
  server.on('openim_robot_http_svc/get_all_robots', () => ({ status: 502, raw: 'bad gateway' }));
  server.on('openim_robot_http_svc/send_stream_msg', () => ({ reset: true }));
  server.on('openim_robot_http_svc/delete_robot', () => ({ hang: true }));
  server.on('openim/sendmsg', () => ({ status: 200, raw: 'not json' }));
  server.on('profile/portrait_set', () => ({ ActionStatus: 'FAIL', ErrorCode: 70001, ErrorInfo: 'expired' }));
});
afterAll(async () => {
  await server.close();
});

describe('secrets', () => {
  it('appear in no thrown error, on any path', async () => {
    const options: TencentImOptions = {
      sdkAppId: SDK_APP_ID,
      admin: ADMIN,
      secretKey: SECRET_KEY,
      baseUrl: server.url,
      timeoutMs: 50,
      retry: { retries: 1, minDelayMs: 0, maxDelayMs: 0 },
    };
    const im = new TencentIm(options);
    const refused = new TencentIm({ ...options, baseUrl: 'http://127.0.0.1:9' });
    const wrongKey = new TencentIm({ ...options, secretKey: `${SECRET_KEY}-wrong` });
    const paths: Promise<unknown>[] = [
      im.createRobot({ userId: '@RBT#1' }), // cloud error quoting the URL
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
    expect(() => new TencentIm({ ...options, sdkAppId: 0 })).toThrow();
    const usersigs = new Set(server.calls.map((call) => call.query.get('usersig') ?? ''));
    expect(usersigs.size).toBeGreaterThan(0);
    for (const error of errors) {
      const text = everythingIn(error);
      expect(text).not.toContain(SECRET_KEY);
      for (const usersig of usersigs) {
        expect(text).not.toContain(usersig);
        expect(text).not.toContain(encodeURIComponent(usersig));
      }
    }
    // The cloud's words still reach the error, with the credentials cut out.
    expect((errors[0] as Error).message).toContain('[redacted]');
    await Promise.all([im.close(), refused.close(), wrongKey.close()]);
  });
});

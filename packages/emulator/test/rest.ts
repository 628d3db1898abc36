import { genUserSig } from '@imbot/core';
import { type Emulator, startEmulator } from '../src/index.js';

export const SDK_APP_ID = 1400000000;
export const SECRET_KEY = 'emulator-test-secret-key';
export const ADMIN = 'administrator';

/** An emulator with the test app. */
export function emulatorForTests(
  extra: Partial<Parameters<typeof startEmulator>[0]> = {},
): Promise<Emulator> {
  return startEmulator({
    ...extra,
    tencent: { sdkAppId: SDK_APP_ID, secretKey: SECRET_KEY, admin: ADMIN, ...extra.tencent },
  });
}

export interface RawCall {
  query?: Record<string, string | undefined>;
  body?: string;
}

export const adminSig = () =>
  genUserSig({ sdkAppId: SDK_APP_ID, secretKey: SECRET_KEY, userId: ADMIN, expireSeconds: 3600 });

/**
 * One REST call by hand, the way curl would make it: valid query parameters unless `query`
 * overrides them (`undefined` removes one).
 */
export async function rawCall(
  emulator: Emulator,
  api: string,
  body: unknown = {},
  options: RawCall = {},
): Promise<{ status: number; json: Record<string, unknown> | undefined; text: string }> {
  const query: Record<string, string | undefined> = {
    sdkappid: String(SDK_APP_ID),
    identifier: ADMIN,
    usersig: adminSig(),
    random: String(Math.floor(Math.random() * 2 ** 32)),
    contenttype: 'json',
    ...options.query,
  };
  const search = new URLSearchParams(
    Object.entries(query).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  const response = await fetch(`${emulator.url}/v4/${api}?${search}`, {
    method: 'POST',
    body: options.body ?? JSON.stringify(body),
  });
  const text = await response.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, json, text };
}

import { checkUserSig } from './rules.js';

export interface TencentApp {
  sdkAppId: number;
  secretKey: string;
  admin: string;
}

export type RequestCheck = { ok: true; api: string } | { ok: false; code: number; info: string };

const UINT32_MAX = 2 ** 32 - 1;

/**
 * Checks a REST call's URL as the cloud does, in the cloud's order: the path names an API, the
 * query has every parameter, `sdkappid` is this app, `usersig` verifies for `identifier`, and
 * `identifier` is the App admin. Each failure carries the cloud's documented code.
 */
export function checkTencentRequest(url: URL, app: TencentApp, now: number): RequestCheck {
  const match = /^\/v4\/([A-Za-z0-9_]+\/[A-Za-z0-9_]+)$/.exec(url.pathname);
  if (!match) return { ok: false, code: 60002, info: `no such API: ${url.pathname}` };
  const api = match[1] as string;
  const q = url.searchParams;
  const sdkappid = q.get('sdkappid');
  if (!sdkappid) return { ok: false, code: 60012, info: 'sdkappid is missing' };
  for (const name of ['identifier', 'usersig', 'random', 'contenttype']) {
    if (!q.get(name)) return { ok: false, code: 60002, info: `${name} is missing from the URL` };
  }
  if (q.get('contenttype') !== 'json') return { ok: false, code: 60002, info: 'contenttype must be json' };
  const random = q.get('random') as string;
  if (!/^\d{1,10}$/.test(random) || Number(random) > UINT32_MAX) {
    return { ok: false, code: 60002, info: 'random must be a 32-bit unsigned integer' };
  }
  if (sdkappid !== String(app.sdkAppId))
    return { ok: false, code: 60006, info: `SDKAppID ${sdkappid} is invalid` };
  const identifier = q.get('identifier') as string;
  const userSig = checkUserSig(q.get('usersig') as string, app, now);
  if ('code' in userSig) return { ok: false, code: userSig.code, info: userSig.info };
  const signedFor = userSig.userId;
  if (signedFor !== identifier) {
    return { ok: false, code: 70013, info: 'identifier is not the user the UserSig was made for' };
  }
  if (identifier !== app.admin) return { ok: false, code: 60010, info: 'this API needs an App admin' };
  return { ok: true, api };
}

import { threadIdContract } from '@chat-adapter/tests';
import { RongCloud, TencentIm } from '@imbot/core';
import { afterAll } from 'vitest';
import { createImbotAdapter, type ImbotThread } from '../src/index.js';

/** The Chat SDK's own adapter test kit: its thread id contract, on both clouds. */

const im = new TencentIm({
  sdkAppId: 1400000000,
  secretKey: 'contract-secret',
  admin: 'administrator',
  baseUrl: 'http://127.0.0.1:9',
  callbackToken: 'contract-token',
});
const rong = new RongCloud({
  appKey: 'contract',
  appSecret: 'contract-secret',
  baseUrl: 'http://127.0.0.1:9',
});
afterAll(() => Promise.all([im.close(), rong.close()]));

for (const [platform, botId] of [
  [im.platform, '@RBT#contract'],
  [rong.platform, 'contract-bot'],
] as const) {
  const adapter = createImbotAdapter({ platform, botId });
  threadIdContract<ImbotThread>({
    name: adapter.name,
    encode: (thread) => adapter.encodeThreadId(thread),
    decode: (id) => adapter.decodeThreadId(id),
    cases: [
      { decoded: { type: 'dm', userId: 'alice' }, encoded: `${adapter.name}:dm:alice` },
      { decoded: { type: 'dm', userId: 'user:with:colons' } },
      { decoded: { type: 'group', groupId: '@TGS#team' }, encoded: `${adapter.name}:group:%40TGS%23team` },
    ],
    isDM: {
      fn: (id) => adapter.isDM(id),
      dmThreadId: `${adapter.name}:dm:alice`,
      nonDmThreadId: `${adapter.name}:group:team`,
    },
  });
}

// Type-checked under node16, nodenext and bundler resolution: the published types resolve and fit.

import { ImbotAgentsAdapter } from '@imbot/agents-adapter';
import { ImBotAdapter } from '@imbot/botframework-adapter';
import { createImbotAdapter } from '@imbot/chat-adapter';
import {
  genUserSig,
  type InboundMessage,
  type Middleware,
  type Reply,
  type RichMessage,
  RongCloud,
  signRongCloud,
  TencentIm,
} from '@imbot/core';
import { conversationReferenceFor } from '@imbot/core/activity';
import { randomUint32 } from '@imbot/core/internal';
import { stopAnswers } from '@imbot/core/receive';
import { type Emulator, startEmulator } from '@imbot/emulator';
import { imbot } from '@imbot/express-middleware';
import { RedisRateLimiter } from '@imbot/redis';

const im = new TencentIm({
  sdkAppId: 1400000000,
  admin: 'administrator',
  secretKey: 'k',
  region: 'singapore',
});
const rong: RongCloud = new RongCloud({ appKey: 'a', appSecret: 's', region: 'singapore' });
const card: RichMessage = {
  type: 'card',
  title: 'Menu',
  buttons: [{ title: 'Hi', type: 'message', value: 'hi' }],
};
const blocked: Middleware = (context, next) => (context.message.from === 'mallory' ? undefined : next());
const router = imbot({
  platform: im.platform,
  bots: [{ userId: '@RBT#bot', name: 'Bot' }],
  unsignedWebhooks: true,
  use: [blocked, stopAnswers({ words: ['/cancel'] })],
  onMessage: (message: InboundMessage, reply: Reply) => reply.send({ ...card, text: message.text }),
});
const emulator: Promise<Emulator> = startEmulator();
const chatAdapter = createImbotAdapter({ platform: rong.platform, botId: 'helper-bot' });
const chatThread: string = chatAdapter.encodeThreadId({ type: 'group', groupId: 'team' });
export const used = [
  router,
  rong,
  emulator,
  genUserSig,
  signRongCloud,
  randomUint32,
  ImBotAdapter,
  ImbotAgentsAdapter,
  chatThread,
  RedisRateLimiter,
];

const reference = conversationReferenceFor({ botId: '@RBT#helper', userId: 'user01' });
void reference.conversation;

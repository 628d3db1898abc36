import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RongCloud, signRongCloud, TencentIm } from '@imbot/core';
import { tencentCallbackSign } from '@imbot/core/tencent';
import { type Emulator, startEmulator } from '@imbot/emulator';
import { Activity } from '@microsoft/agents-activity';
import { AgentApplication, MemoryStorage, type TurnContext, type TurnState } from '@microsoft/agents-hosting';
import express from 'express';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ImbotAgentsAdapter, imbotStream, streamText } from '../src/index.js';

const TENCENT = { sdkAppId: 1400000000, secretKey: 'agents-key', admin: 'administrator' };
const TOKEN = 'agents-token';
const RONG = { appKey: 'agents-app', appSecret: 'agents-secret' };

type Cloud = 'tencent' | 'rongcloud';
const BOT: Record<Cloud, string> = { tencent: '@RBT#agent', rongcloud: 'agent-bot' };

let emulator: Emulator;
let client: TencentIm | RongCloud;
let server: Server | undefined;

async function setUp(cloud: Cloud): Promise<void> {
  emulator = await startEmulator({ tencent: { ...TENCENT, robots: [BOT.tencent] }, rongcloud: RONG });
  client =
    cloud === 'tencent'
      ? new TencentIm({ ...TENCENT, baseUrl: emulator.url, callbackToken: TOKEN })
      : new RongCloud({ ...RONG, baseUrl: emulator.url, callbackUrl: 'http://127.0.0.1:9/unused' });
  if (cloud === 'rongcloud')
    await (client as RongCloud).createBot({
      userId: BOT.rongcloud,
      name: 'Agent',
      type: 'bot',
      profileUrl: '',
      integrations: [],
    });
}

/** Serves `logic` at /api/messages through the adapter; the emulator's callbacks go there. */
async function serve(
  cloud: Cloud,
  adapter: ImbotAgentsAdapter,
  logic: (context: TurnContext) => Promise<void>,
) {
  const web = express().post('/api/messages', (req, res) => adapter.process(req, res, logic));
  server = await new Promise<Server>((resolve) => {
    const s = web.listen(0, '127.0.0.1', () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/messages`;
  if (cloud === 'tencent') emulator.tencent.setCallback(url, TOKEN);
  else
    await (client as RongCloud).createIntegration(BOT.rongcloud, {
      type: 'webhook',
      enabled: true,
      callbackUrl: url,
      objectNames: ['RC:TxtMsg'],
      events: ['message:private', 'message:group'],
      stream: false,
      handleResponse: false,
    });
  return url;
}

afterEach(async () => {
  if (server) {
    server.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    server = undefined;
  }
  await client.close();
  await emulator.close();
});

/** An AgentApplication: an echo route, a streamed answer, and an error route. */
function agent() {
  const app = new AgentApplication<TurnState>({ storage: new MemoryStorage() });
  app.onMessage('stream', async (context) => {
    async function* model() {
      for (const word of 'A streamed answer from an agent, word by word.'.split(/(?<= )/)) yield word;
    }
    await streamText(context, model());
  });
  app.onMessage('status', async (context) => {
    const stream = imbotStream(context);
    stream.queueInformativeUpdate('Thinking…');
    stream.queueTextChunk('Status: ');
    stream.queueTextChunk('all good.');
    await stream.endStream();
  });
  app.onActivity('message', async (context) => {
    await context.sendActivity(`Echo: ${context.activity.text}`);
  });
  return app;
}

describe.each(['tencent', 'rongcloud'] as const)('ImbotAgentsAdapter on %s', (cloud) => {
  beforeEach(() => setUp(cloud));
  const emulated = () => (cloud === 'tencent' ? emulator.tencent : emulator.rongcloud);
  const fromBot = (user = 'alice') =>
    emulated()
      .conversation(user, BOT[cloud])
      .filter((m) => m.from === BOT[cloud]);
  const say = (text: string, user = 'alice') => emulated().userSends({ from: user, to: BOT[cloud], text });

  it('runs an AgentApplication: the echo route answers, and a streamed answer arrives as one message, exact', async () => {
    const adapter = new ImbotAgentsAdapter({ platform: client.platform });
    const app = agent();
    await serve(cloud, adapter, (context) => app.run(context));
    await say('hello');
    await expect.poll(() => fromBot().at(-1)).toMatchObject({ text: 'Echo: hello', state: 'finished' });
    await say('stream');
    await expect
      .poll(() => fromBot().at(-1))
      .toMatchObject({ text: 'A streamed answer from an agent, word by word.', state: 'finished' });
    await say('status');
    await expect.poll(() => fromBot().at(-1)).toMatchObject({ text: 'Status: all good.', state: 'finished' });
    expect(fromBot().map((m) => m.text)).toHaveLength(3);
  });

  it("keeps turn state across turns with the README's one line (an afterTurn handler that saves)", async () => {
    const adapter = new ImbotAgentsAdapter({ platform: client.platform });
    const app = new AgentApplication<TurnState>({ storage: new MemoryStorage() });
    app.onActivity('message', async (context, state) => {
      const count = (state.getValue<number | undefined>('conversation.count') ?? 0) + 1;
      state.setValue('conversation.count', count);
      await context.sendActivity(`turn ${count}`);
    });
    app.onTurn('afterTurn', async () => true);
    await serve(cloud, adapter, (context) => app.run(context));
    await say('one');
    await expect.poll(() => fromBot().at(-1)?.text).toBe('turn 1');
    await say('two');
    await expect.poll(() => fromBot().at(-1)?.text).toBe('turn 2');
  });

  it('sends a proactive message through continueConversation', async () => {
    const adapter = new ImbotAgentsAdapter({ platform: client.platform, bots: [BOT[cloud]] });
    await adapter.continueConversation(
      undefined,
      adapter.conversationReferenceFor({ userId: 'bob' }),
      async (context) => {
        await context.sendActivity('A reminder for you');
      },
    );
    expect(fromBot('bob').at(-1)).toMatchObject({ text: 'A reminder for you' });
    await adapter.createConversation({ userId: 'carol' }, async (context) => {
      await context.sendActivity('Hello Carol');
    });
    expect(fromBot('carol').at(-1)).toMatchObject({ text: 'Hello Carol' });
  });

  it('a failing send reaches onTurnError; a forged request runs no turn', async () => {
    const adapter = new ImbotAgentsAdapter({ platform: client.platform, onError: () => undefined });
    const errors: Error[] = [];
    adapter.onTurnError = async (_context, error) => {
      errors.push(error);
    };
    const turns: string[] = [];
    const url = await serve(cloud, adapter, async (context) => {
      turns.push(context.activity.text ?? '');
      if (context.activity.text === 'fail') await context.sendActivity('this send is refused');
    });
    // A forged request: signed with the wrong secret.
    const time = Math.floor(Date.now() / 1000);
    const forged =
      cloud === 'tencent'
        ? `SdkAppid=${TENCENT.sdkAppId}&RequestTime=${time}&Sign=${tencentCallbackSign('guessed', time)}`
        : `appKey=${RONG.appKey}&nonce=n&timestamp=${Date.now()}&signature=${signRongCloud({ appSecret: 'guessed', nonce: 'n', timestamp: Date.now() })}`;
    const refused = await fetch(`${url}?${forged}`, { method: 'POST', body: '{}' });
    expect(refused.status).toBe(401);
    // The cloud refuses the reply's send (a non-retryable error).
    if (cloud === 'tencent')
      emulator.faults.failNext('openim/sendmsg', 1, { errorCode: 10004, errorInfo: 'invalid parameter' });
    else
      emulator.faults.failNext('/message/private/publish.json', 1, {
        errorCode: 1002,
        errorInfo: 'invalid parameter',
      });
    await say('fail');
    await expect.poll(() => errors.length).toBe(1);
    expect(errors[0]).toMatchObject({ code: cloud === 'tencent' ? 'TENCENT_API' : 'RONGCLOUD_API' });
    expect(turns).toEqual(['fail']);
  });
});

describe('editing and the methods these clouds lack', () => {
  beforeEach(() => setUp('tencent'));

  it('edits and recalls a sent message; attachment uploads are not supported', async () => {
    const adapter = new ImbotAgentsAdapter({ platform: client.platform, bots: [BOT.tencent] });
    const errors: Error[] = [];
    adapter.onTurnError = async (_context, error) => {
      errors.push(error);
    };
    const last = () =>
      emulator.tencent
        .conversation('dana', BOT.tencent)
        .filter((m) => m.from === BOT.tencent)
        .at(-1);
    const seen: string[] = [];
    await adapter.continueConversation(
      undefined,
      adapter.conversationReferenceFor({ userId: 'dana' }),
      async (context) => {
        const sent = await context.sendActivity('draft');
        await context.updateActivity(
          Activity.fromObject({
            ...context.activity,
            id: sent?.id,
            type: 'message',
            text: 'final',
            from: context.activity.recipient,
            recipient: context.activity.from,
          }),
        );
        seen.push(last()?.text ?? '');
        await context.deleteActivity(sent?.id as string);
      },
    );
    expect(errors).toEqual([]);
    expect(seen).toEqual(['final']);
    expect(last()?.state).toBe('recalled');
    await expect(adapter.uploadAttachment()).rejects.toMatchObject({ code: 'NOT_SUPPORTED' });
  });
});

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMemoryState } from '@chat-adapter/state-memory';
import { type BotPlatform, MemoryTranscriptStore, RongCloud, signRongCloud, TencentIm } from '@imbot/core';
import { tencentCallbackSign } from '@imbot/core/tencent';
import { type CallRecord, type Emulator, startEmulator } from '@imbot/emulator';
import { Actions, Button, Card, CardText, Chat, type SentMessage, type Thread } from 'chat';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createImbotAdapter, type ImbotChatAdapter } from '../src/index.js';

/**
 * A bot written with the real Chat SDK and its memory state, on both clouds through the emulator,
 * over real HTTP: the robot exists after `initialize`, messages reach the right handlers, streams
 * use the cloud's streaming API, edits and recalls apply, typing shows, card presses come back, and
 * forgeries reach nothing.
 */

const tencentApp = { sdkAppId: 1400000099, secretKey: 'chat-sdk-secret', admin: 'administrator' };
const rongApp = { appKey: 'chat-sdk-key', appSecret: 'chat-sdk-secret' };
const TOKEN = 'chat-sdk-callback-token';

interface Cloud {
  name: 'tencent' | 'rongcloud';
  bot: string;
  /** The REST APIs whose calls carry a streamed answer. */
  streamApi: RegExp;
  isTyping(call: CallRecord): boolean;
  client(emulator: Emulator, webhookUrl: string): { platform: BotPlatform; close(): Promise<void> };
}

const clouds: Cloud[] = [
  {
    name: 'tencent',
    bot: '@RBT#chatsdk',
    streamApi: /send_stream_msg|stream_msg/,
    isTyping: (call) =>
      call.api === 'openim/sendmsg' && (call.body as { MsgLifeTime?: number }).MsgLifeTime === 0,
    client: (emulator) => {
      const im = new TencentIm({ ...tencentApp, baseUrl: emulator.url, callbackToken: TOKEN });
      return { platform: im.platform, close: () => im.close() };
    },
  },
  {
    name: 'rongcloud',
    bot: 'chatsdk-bot',
    streamApi: /publish_stream\.json$/,
    isTyping: (call) => call.api === '/statusmessage/private/publish.json',
    client: (emulator, webhookUrl) => {
      const rong = new RongCloud({ ...rongApp, baseUrl: emulator.url, callbackUrl: webhookUrl });
      return { platform: rong.platform, close: () => rong.close() };
    },
  },
];

/** Serves `handle` (a web-standard handler) on 127.0.0.1, as any Node server would. */
async function serveFetch(
  handle: (request: Request) => Promise<Response>,
): Promise<{ server: Server; url: string }> {
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = `http://127.0.0.1${req.url ?? '/'}`;
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (typeof value === 'string') headers.set(name, value);
    }
    const body = req.method === 'POST' ? Buffer.concat(chunks) : undefined;
    const response = await handle(new Request(url, { method: req.method ?? 'GET', headers, body }));
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function* words(text: string) {
  for (const word of text.split(/(?<= )/)) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    yield word;
  }
}

describe.each(clouds)('a Chat SDK bot on $name', (cloud) => {
  let emulator: Emulator;
  let server: Server;
  let client: { platform: BotPlatform; close(): Promise<void> };
  let adapter: ImbotChatAdapter;
  let bot: Chat;
  let seen: { handler: string; text: string; isMention: boolean | undefined; thread: Thread }[];
  let refused: Error[];
  let webhookUrl: string;
  let transcript: MemoryTranscriptStore;

  beforeEach(async () => {
    emulator = await startEmulator({ tencent: tencentApp, rongcloud: rongApp });
    seen = [];
    refused = [];
    let chat: Chat | undefined;
    ({ server } = await serveFetch(async (request) => {
      const handler = chat?.webhooks[cloud.name];
      if (!handler) return new Response('not ready', { status: 503 });
      return handler(request);
    }));
    webhookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook`;
    emulator.tencent.setCallback(webhookUrl, TOKEN);
    client = cloud.client(emulator, webhookUrl);
    transcript = new MemoryTranscriptStore();
    adapter = createImbotAdapter({
      platform: client.platform,
      botId: cloud.bot,
      bot: { name: 'Chat SDK bot' },
      onError: (error) => void refused.push(error),
      // Where the cloud keeps no history a bot can read, the adapter reads a transcript.
      ...(cloud.name === 'rongcloud' ? { transcript } : {}),
    });
    bot = new Chat({
      userName: 'helper',
      adapters: { [cloud.name]: adapter },
      state: createMemoryState(),
      logger: 'silent',
    });
    chat = bot;
  });

  afterEach(async () => {
    await bot.shutdown();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await client.close();
    await emulator.close();
  });

  const cloudOf = () => emulator[cloud.name];
  const fromBot = (userId: string) =>
    cloudOf()
      .conversation(userId, cloud.bot)
      .filter((m) => m.from === cloud.bot);

  it('its robot exists after initialize; a DM reaches onDirectMessage and a streamed post arrives as one finished message through the streaming API', async () => {
    const answer = 'A streamed answer, word by word, through the cloud’s own streaming API.';
    let sent: SentMessage | undefined;
    bot.onDirectMessage(async (thread, message) => {
      seen.push({ handler: 'dm', text: message.text, isMention: message.isMention, thread });
      sent = await thread.post(words(answer));
    });
    await bot.initialize();
    expect(cloudOf().bots()).toEqual([
      expect.objectContaining({ userId: cloud.bot, name: 'Chat SDK bot', valid: true }),
    ]);

    await cloudOf().userSends({ from: 'alice', to: cloud.bot, text: 'hello' });
    await expect.poll(() => fromBot('alice')[0]?.state, { timeout: 5000 }).toBe('finished');
    expect(fromBot('alice')).toEqual([expect.objectContaining({ text: answer, state: 'finished' })]);
    expect(seen).toEqual([expect.objectContaining({ handler: 'dm', text: 'hello' })]);
    expect(seen[0]?.thread.id).toBe(`${cloud.name}:dm:alice`);
    await expect.poll(() => sent?.id).toBeTruthy();
    // Through the streaming API only: no plain message was posted and then edited.
    const calls = cloudOf().calls();
    expect(calls.some((c) => cloud.streamApi.test(c.api))).toBe(true);
    expect(
      calls.filter((c) => !cloud.isTyping(c) && /sendmsg|modify|publish\.json|recall/.test(c.api)),
    ).toEqual([]);
    expect(refused).toEqual([]);
  });

  it('an @-mention in a group reaches onNewMention; once subscribed, the next message reaches onSubscribedMessage', async () => {
    bot.onNewMention(async (thread, message) => {
      seen.push({ handler: 'mention', text: message.text, isMention: message.isMention, thread });
      await thread.subscribe();
      await thread.post('Subscribed.');
    });
    bot.onSubscribedMessage(async (thread, message) => {
      seen.push({ handler: 'subscribed', text: message.text, isMention: message.isMention, thread });
      await thread.post(words('Still listening.'));
    });
    await bot.initialize();
    cloudOf().createGroup({ groupId: 'team', members: ['alice', 'bob'] });
    await client.platform.addBotToGroup(cloud.bot, 'team');

    await cloudOf().userSendsToGroup({
      from: 'alice',
      groupId: 'team',
      text: 'join us',
      mentions: [cloud.bot],
    });
    const botMessages = () =>
      cloudOf()
        .groupConversation('team')
        .filter((m) => m.from === cloud.bot);
    await expect.poll(() => botMessages().length, { timeout: 5000 }).toBe(1);
    await cloudOf().userSendsToGroup({
      from: 'bob',
      groupId: 'team',
      text: 'and now?',
      mentions: [cloud.bot],
    });
    await expect.poll(() => botMessages()[1]?.state, { timeout: 5000 }).toBe('finished');

    expect(seen.map(({ handler, text, isMention }) => ({ handler, text, isMention }))).toEqual([
      { handler: 'mention', text: 'join us', isMention: true },
      { handler: 'subscribed', text: 'and now?', isMention: true },
    ]);
    expect(seen[0]?.thread.id).toBe(`${cloud.name}:group:team`);
    // Replies in the group @-mention the member they answer.
    expect(botMessages().map((m) => m.text)).toEqual(['@alice Subscribed.', '@bob Still listening.']);
    expect(refused).toEqual([]);
  });

  it('sent.edit() and sent.delete() apply on the cloud, and thread.startTyping() shows the bot typing', async () => {
    let done!: () => void;
    const finished = new Promise<void>((resolve) => {
      done = resolve;
    });
    bot.onDirectMessage(async (thread) => {
      await thread.startTyping('thinking');
      await expect.poll(() => cloudOf().typing('alice', cloud.bot), { timeout: 3000 }).toBeDefined();
      const first = await thread.post('first draft');
      await first.edit('final text');
      const second = await thread.post('to be recalled');
      await second.delete();
      done();
    });
    await bot.initialize();
    await cloudOf().userSends({ from: 'alice', to: cloud.bot, text: 'go' });
    await finished;
    expect(cloudOf().calls().some(cloud.isTyping)).toBe(true);
    // What the user's client shows (an edit on RongCloud silently replaces the message).
    const texts = fromBot('alice')
      .filter((m) => !m.silent)
      .map((m) => ({ text: m.text, state: m.state }));
    expect(texts).toContainEqual({ text: 'final text', state: 'finished' });
    expect(texts).not.toContainEqual(expect.objectContaining({ text: 'first draft' }));
    expect(texts).toContainEqual(expect.objectContaining({ state: 'recalled' }));
    expect(refused).toEqual([]);
  });

  it('a card’s button press reaches onAction with its id and value; a forged press reaches nothing', async () => {
    const actions: { actionId: string; value: string | undefined; user: string; messageId: string }[] = [];
    bot.onDirectMessage(async (thread) => {
      await thread.post(
        Card({
          title: 'Deploy?',
          children: [
            CardText('Ship build 42 to production.'),
            Actions([Button({ id: 'deploy', label: 'Ship it', value: '42' })]),
          ],
        }),
      );
    });
    bot.onAction('deploy', async (event) => {
      actions.push({
        actionId: event.actionId,
        value: event.value,
        user: event.user.userId,
        messageId: event.messageId,
      });
      await event.thread?.post('Shipping.');
    });
    await bot.initialize();
    await cloudOf().userSends({ from: 'alice', to: cloud.bot, text: 'deploy' });
    await expect.poll(() => fromBot('alice')[0]?.content?.type, { timeout: 5000 }).toBe('card');
    const card = fromBot('alice')[0];
    const button = card?.content?.type === 'card' ? card.content.buttons[0] : undefined;
    if (button?.type !== 'message' || !card) throw new Error('the card has no message button');
    expect(button.title).toBe('Ship it');

    await cloudOf().userPresses({ from: 'alice', msgKey: card.msgKey, value: button.value });
    await expect.poll(() => fromBot('alice').map((m) => m.text), { timeout: 5000 }).toContain('Shipping.');
    expect(actions).toEqual([
      { actionId: 'deploy', value: '42', user: 'alice', messageId: expect.any(String) },
    ]);

    // The same signed value, pressed by a user the card was not sent to (a forwarded payload).
    await forgePress(webhookUrl, cloud, 'mallory', button.value);
    // A value whose MAC does not hold.
    await forgePress(webhookUrl, cloud, 'alice', `${button.value.slice(0, -4)}AAAA`);
    await expect.poll(() => refused.length, { timeout: 3000 }).toBe(2);
    expect(refused.map((e) => (e as { code?: string }).code)).toEqual(['ACTION_REFUSED', 'ACTION_REFUSED']);
    expect(actions).toHaveLength(1);
  });

  it('a task_update while the stream waits keeps the bot typing and names the task; /stop ends the stream with what was shown', async () => {
    let turnSignal: AbortSignal | undefined;
    bot.onDirectMessage(async (thread) => {
      turnSignal = thread.signal;
      await thread.post(
        (async function* () {
          yield {
            type: 'task_update' as const,
            id: 't1',
            title: 'Searching docs',
            status: 'in_progress' as const,
          };
          await new Promise((resolve) => setTimeout(resolve, 1500));
          yield {
            type: 'task_update' as const,
            id: 't1',
            title: 'Searching docs',
            status: 'complete' as const,
          };
          for (let i = 0; i < 400; i++) {
            await new Promise((resolve) => setTimeout(resolve, 10));
            yield `word${i} `;
          }
        })(),
      );
    });
    await bot.initialize();
    await cloudOf().userSends({ from: 'alice', to: cloud.bot, text: 'find it' });
    await expect
      .poll(() => cloudOf().typing('alice', cloud.bot)?.statusText, { timeout: 3000 })
      .toBe('Searching docs');
    await expect.poll(() => fromBot('alice')[0]?.text ?? '', { timeout: 5000 }).toContain('word3 ');

    await cloudOf().userSends({ from: 'alice', to: cloud.bot, text: '/stop' });
    await expect.poll(() => fromBot('alice')[0]?.state, { timeout: 3000 }).toBe('finished');
    const answer = fromBot('alice')[0]?.text ?? '';
    expect(answer.endsWith(' (stopped)')).toBe(true);
    expect(answer).not.toContain('word399');
    expect(fromBot('alice')).toHaveLength(1);
    // The Chat SDK's turn was aborted too, so the handler's own work can stop.
    expect(turnSignal?.aborted).toBe(true);
    expect(refused).toEqual([]);
  });

  it('refuses what the cloud cannot do with the Chat SDK’s own error, and bad input with a ValidationError', async () => {
    await bot.initialize();
    const dm = `${cloud.name}:dm:alice`;
    await expect(adapter.addReaction(dm, 'm1', 'thumbs_up')).rejects.toMatchObject({
      name: 'NotImplementedError',
      feature: 'reactions',
    });
    await expect(
      adapter.postMessage(dm, { markdown: 'x', files: [{ data: Buffer.from('x'), filename: 'x.txt' }] }),
    ).rejects.toMatchObject({
      name: 'NotImplementedError',
      feature: 'files',
    });
    await expect(adapter.postMessage('slack:C1:1', 'hi')).rejects.toMatchObject({
      code: 'VALIDATION',
      field: 'threadId',
    });
    expect(() => createImbotAdapter({ platform: client.platform, botId: '' })).toThrow(
      expect.objectContaining({ code: 'VALIDATION' }),
    );
    expect(() =>
      createImbotAdapter({ platform: client.platform, botId: cloud.bot, use: ['not a function' as never] }),
    ).toThrow(expect.objectContaining({ code: 'VALIDATION', field: 'options.use.0' }));
    expect(() =>
      createImbotAdapter({ platform: client.platform, botId: cloud.bot, ensure: { retries: -1 } }),
    ).toThrow(expect.objectContaining({ code: 'VALIDATION', field: 'ensure' }));
    // Nothing reached the cloud's messaging APIs.
    expect(cloudOf().conversation('alice', cloud.bot)).toEqual([]);
  });

  it('history reads back with the Chat SDK’s cursors and directions, one-to-one and in a group', async () => {
    const replied: string[] = [];
    bot.onDirectMessage(async (thread, message) => {
      await thread.post(`re: ${message.text}`);
      replied.push(message.text);
    });
    bot.onNewMention(async (thread, message) => {
      await thread.post(`re: ${message.text}`);
      replied.push(message.text);
    });
    await bot.initialize();
    for (const text of ['one', 'two', 'three']) {
      await cloudOf().userSends({ from: 'alice', to: cloud.bot, text });
      await expect.poll(() => replied.at(-1), { timeout: 3000 }).toBe(text);
    }
    const dm = `${cloud.name}:dm:alice`;
    const texts = (page: { messages: { text: string }[] }) => page.messages.map((m) => m.text);
    const latest = await adapter.fetchMessages(dm, { limit: 4 });
    expect(texts(latest)).toEqual(['two', 're: two', 'three', 're: three']);
    expect(latest.messages.map((m) => m.author.isMe)).toEqual([false, true, false, true]);
    expect(latest.messages[0]?.threadId).toBe(dm);
    const older = await adapter.fetchMessages(dm, { limit: 4, cursor: latest.nextCursor });
    expect(texts(older)).toEqual(['one', 're: one']);
    expect(older.nextCursor).toBeUndefined();
    const first = await adapter.fetchMessages(dm, { limit: 4, direction: 'forward' });
    expect(texts(first)).toEqual(['one', 're: one', 'two', 're: two']);
    const rest = await adapter.fetchMessages(dm, {
      limit: 4,
      direction: 'forward',
      cursor: first.nextCursor,
    });
    expect(texts(rest)).toEqual(['three', 're: three']);
    expect(rest.nextCursor).toBeUndefined();
    const id = latest.messages[3]?.id ?? '';
    expect((await adapter.fetchMessage(dm, id))?.text).toBe('re: three');
    expect(await adapter.fetchMessage(dm, 'no-such-message')).toBeNull();
    if (cloud.name === 'rongcloud') {
      // RongCloud keeps no history a bot can read: the pages above came from the transcript, which
      // outlives the adapter (a restart; with RedisTranscriptStore, every replica).
      const restarted = createImbotAdapter({ platform: client.platform, botId: cloud.bot, transcript });
      expect(restarted.persistThreadHistory).toBe(false);
      expect(texts(await restarted.fetchMessages(dm, { limit: 2 }))).toEqual(['three', 're: three']);
      return;
    }

    // A group reads 20 at most per call: 25 messages need two.
    cloudOf().createGroup({ groupId: 'log', members: ['alice'] });
    await client.platform.addBotToGroup(cloud.bot, 'log');
    for (let i = 1; i <= 25; i++)
      await cloudOf().userSendsToGroup({ from: 'alice', groupId: 'log', text: `m${i}` });
    const group = await adapter.fetchMessages(`${cloud.name}:group:log`, { limit: 22 });
    expect(texts(group)).toEqual(Array.from({ length: 22 }, (_, i) => `m${i + 4}`));
    const start = await adapter.fetchMessages(`${cloud.name}:group:log`, { limit: 3, direction: 'forward' });
    expect(texts(start)).toEqual(['m1', 'm2', 'm3']);
  });

  it('markAsRead shows the user their message read; reply quotes the message it answers', async () => {
    bot.onDirectMessage(async (thread, message) => {
      await thread.markAsRead(message);
      await thread.reply(message, `About "${message.text}": yes.`);
    });
    await bot.initialize();
    await cloudOf().userSends({ from: 'alice', to: cloud.bot, text: 'can you read me?' });
    await expect
      .poll(() => fromBot('alice')[0]?.text, { timeout: 5000 })
      .toBe('About "can you read me?": yes.');
    const asked = cloudOf()
      .conversation('alice', cloud.bot)
      .find((m) => m.from === 'alice');
    expect(asked?.readAt).toEqual(expect.any(Number));
    expect(fromBot('alice')[0]?.quote).toEqual({
      messageId: asked?.msgKey,
      text: 'can you read me?',
      from: 'alice',
    });
    await expect(adapter.markAsRead(`${cloud.name}:group:team`, 'm1')).rejects.toMatchObject({
      name: 'NotImplementedError',
    });
    expect(refused).toEqual([]);
  });

  it('answers the cloud first and hands the handling to the Chat SDK’s waitUntil', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let finished = false;
    bot.onDirectMessage(async () => {
      await gate;
      finished = true;
    });
    await bot.initialize();
    const waited: Promise<unknown>[] = [];
    const body = textCallback(cloud, 'alice', 'later');
    const query = cloud.name === 'tencent' ? tencentQuery() : rongQuery();
    const response = await adapter.handleWebhook(
      new Request(webhookUrl + query, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      }),
      { waitUntil: (task) => void waited.push(task) },
    );
    expect(response.status).toBe(200);
    expect(waited.length).toBeGreaterThan(0);
    expect(finished).toBe(false);
    release();
    await Promise.all(waited);
    expect(finished).toBe(true);
  });

  it('ignores the bot’s own messages, as the Chat SDK’s self-message contract asks', async () => {
    bot.onDirectMessage(async (thread, message) => {
      seen.push({ handler: 'dm', text: message.text, isMention: message.isMention, thread });
    });
    await bot.initialize();
    const response = await postCallback(webhookUrl, cloud, textCallback(cloud, cloud.bot, 'echo'));
    expect(response.status).toBe(200);
    await cloudOf().userSends({ from: 'alice', to: cloud.bot, text: 'sentinel' });
    await expect.poll(() => seen.map((s) => s.text), { timeout: 3000 }).toEqual(['sentinel']);
  });

  it('a forged callback is refused and reaches no handler', async () => {
    bot.onDirectMessage(async (_thread, message) => {
      seen.push({ handler: 'dm', text: message.text, isMention: message.isMention, thread: _thread });
    });
    await bot.initialize();
    const response = await forgedCallback(webhookUrl, cloud);
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    // A genuine message after it is handled: the forged one was not.
    await cloudOf().userSends({ from: 'alice', to: cloud.bot, text: 'genuine' });
    await expect.poll(() => seen.map((s) => s.text), { timeout: 3000 }).toEqual(['genuine']);
  });
});

/** Posts a callback with a bad signature to the adapter's webhook, as an attacker would. */
function forgedCallback(webhookUrl: string, cloud: Cloud): Promise<Response> {
  return postCallback(webhookUrl, cloud, textCallback(cloud, 'mallory', 'forged'), { forged: true });
}

/** A user's text message to the bot as the cloud's callback body. */
function textCallback(cloud: Cloud, from: string, text: string): string {
  return JSON.stringify(
    cloud.name === 'tencent'
      ? tencentC2C(from, cloud.bot, [{ MsgType: 'TIMTextElem', MsgContent: { Text: text } }])
      : rongPrivate(from, cloud.bot, 'RC:TxtMsg', { content: text }),
  );
}

/** Posts a callback body to the webhook, signed as the cloud signs it (or with a made-up signature). */
function postCallback(
  webhookUrl: string,
  cloud: Cloud,
  body: string,
  { forged = false } = {},
): Promise<Response> {
  const query =
    cloud.name === 'tencent'
      ? tencentQuery(forged ? '0'.repeat(64) : undefined)
      : rongQuery(forged ? { signature: '0'.repeat(40) } : {});
  return fetch(webhookUrl + query, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
}

/**
 * A user who sends a button-press message with a value of their choosing: the cloud delivers it
 * genuinely signed (the callback is authentic); only its payload is forged.
 */
async function forgePress(webhookUrl: string, cloud: Cloud, from: string, value: string): Promise<void> {
  const press = { businessID: 'imbot_button', value };
  const body = JSON.stringify(
    cloud.name === 'tencent'
      ? tencentC2C(from, cloud.bot, [
          {
            MsgType: 'TIMCustomElem',
            MsgContent: { Data: JSON.stringify(press), Desc: value, Ext: '', Sound: '' },
          },
        ])
      : rongPrivate(from, cloud.bot, 'IMB:ButtonMsg', press),
  );
  expect((await postCallback(webhookUrl, cloud, body)).status).toBe(200);
}

/** Tencent's callback query, signed with the callback token unless `sign` is given. */
function tencentQuery(sign?: string): string {
  const now = Math.floor(Date.now() / 1000);
  return `?SdkAppid=${tencentApp.sdkAppId}&CallbackCommand=Bot.OnC2CMessage&contenttype=json&ClientIP=1.2.3.4&OptPlatform=Web&RequestTime=${now}&Sign=${sign ?? tencentCallbackSign(TOKEN, now)}`;
}

/** RongCloud's callback query, signed with the App Secret unless `signature` is given. */
function rongQuery(forged: { signature?: string } = {}): string {
  const nonce = Math.random().toString(36).slice(2, 12);
  const timestamp = Date.now();
  const signature = forged.signature ?? signRongCloud({ appSecret: rongApp.appSecret, nonce, timestamp });
  return `?appKey=${rongApp.appKey}&nonce=${nonce}&timestamp=${timestamp}&signature=${signature}`;
}

function tencentC2C(from: string, to: string, msgBody: unknown[]) {
  const random = Math.floor(Math.random() * 2 ** 31);
  const time = Math.floor(Date.now() / 1000);
  return {
    CallbackCommand: 'Bot.OnC2CMessage',
    From_Account: from,
    To_Account: to,
    MsgSeq: random % 100000,
    MsgRandom: random,
    MsgTime: time,
    MsgKey: `${random % 100000}_${random}_${time}`,
    OnlineOnlyFlag: 0,
    MsgBody: msgBody,
    CloudCustomData: '',
    EventTime: Date.now(),
  };
}

function rongPrivate(from: string, to: string, objectName: string, content: unknown) {
  return {
    type: 'message:private',
    timestamp: Date.now(),
    bot: { userId: to },
    data: {
      fromUserId: from,
      msgUID: `FORGED-${Math.random().toString(36).slice(2, 10)}`,
      toUserId: to,
      objectName,
      content: JSON.stringify(content),
      channelType: 'PERSON',
    },
  };
}

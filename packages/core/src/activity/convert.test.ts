import { describe, expect, it } from 'vitest';
import type { InboundMessage } from '../platform.js';
import {
  activityToText,
  conversationReferenceFor,
  inboundToActivity,
  streamInfoOf,
  targetOf,
} from './convert.js';

const base: InboundMessage = {
  platform: 'tencent',
  botId: '@RBT#helper',
  from: 'alice',
  conversation: { type: 'c2c', userId: 'alice' },
  text: 'hello',
  rawText: 'hello',
  mentions: [],
  messageKey: '1_2_1700000000',
  time: new Date(1700000000 * 1000),
  attachments: [],
  raw: { CallbackCommand: 'Bot.OnC2CMessage' },
};

describe('inboundToActivity', () => {
  it('fills what botbuilder and its state stores need for a one-to-one message', () => {
    expect(inboundToActivity(base)).toEqual({
      type: 'message',
      id: '1_2_1700000000',
      timestamp: new Date(1700000000 * 1000),
      channelId: 'tencent',
      serviceUrl: '',
      conversation: { id: 'alice|@RBT#helper', isGroup: false, conversationType: 'personal', name: 'alice' },
      from: { id: 'alice', name: 'alice', role: 'user' },
      recipient: { id: '@RBT#helper', name: '@RBT#helper', role: 'bot' },
      text: 'hello',
      textFormat: 'plain',
      locale: 'en-US',
      channelData: { CallbackCommand: 'Bot.OnC2CMessage' },
    });
  });

  it('makes group @-mentions mention entities, with the text already stripped of them', () => {
    const activity = inboundToActivity({
      ...base,
      conversation: { type: 'group', groupId: 'g1' },
      text: 'what now?',
      rawText: '@RBT#helper what now?',
      mentions: ['@RBT#helper'],
      messageKey: 'g1:42',
    });
    expect(activity.conversation).toEqual({
      id: 'g1',
      isGroup: true,
      conversationType: 'groupChat',
      name: 'g1',
    });
    expect(activity.text).toBe('what now?');
    expect(activity.entities).toEqual([
      {
        type: 'mention',
        mentioned: { id: '@RBT#helper', name: '@RBT#helper', role: 'bot' },
        text: '@RBT#helper',
      },
    ]);
  });

  it('turns non-text parts into attachments', () => {
    const image = { MsgType: 'TIMImageElem' };
    const face = { MsgType: 'TIMFaceElem', MsgContent: { Index: 1 } };
    const activity = inboundToActivity({
      ...base,
      text: '',
      attachments: [
        { kind: 'image', url: 'https://img/x.png', raw: image },
        { kind: 'file', url: 'https://f/report.pdf', name: 'report.pdf', raw: {} },
        { kind: 'other', raw: face },
      ],
    });
    expect(activity.attachments).toEqual([
      { contentType: 'image/*', contentUrl: 'https://img/x.png' },
      { contentType: 'application/octet-stream', contentUrl: 'https://f/report.pdf', name: 'report.pdf' },
      { contentType: 'application/vnd.imbot.element+json', content: face },
    ]);
  });
});

describe('activityToText', () => {
  it('gives text, then a readable form of cards, images and suggested actions', () => {
    const text = activityToText({
      text: 'Here you go',
      attachments: [
        {
          contentType: 'application/vnd.microsoft.card.hero',
          content: {
            title: 'Pizza',
            subtitle: 'Margherita',
            buttons: [{ title: 'Order' }, { title: 'Menu' }],
          },
        },
        {
          contentType: 'application/vnd.microsoft.card.adaptive',
          content: {
            body: [
              { type: 'TextBlock', text: 'Your order' },
              { type: 'FactSet', facts: [{ title: 'Total', value: '12 €' }] },
            ],
            actions: [{ title: 'Pay' }],
          },
        },
        { contentType: 'image/png', contentUrl: 'https://img/p.png', name: 'pizza.png' },
      ],
      suggestedActions: {
        actions: [
          { type: 'imBack', title: 'Yes', value: 'yes' },
          { type: 'imBack', title: 'No', value: 'no' },
        ],
      },
    });
    expect(text).toBe(
      [
        'Here you go',
        'Pizza\nMargherita\nOptions: Order | Menu',
        'Your order\nTotal: 12 €\nActions: Pay',
        '[pizza.png] https://img/p.png',
        'Options: Yes | No',
      ].join('\n'),
    );
  });
});

describe('references and targets', () => {
  it('builds a reference from ids alone, and finds the target back', () => {
    const ref = conversationReferenceFor({ botId: '@RBT#helper', userId: 'alice' });
    expect(targetOf(ref)).toEqual({ botId: '@RBT#helper', userId: 'alice' });
    const group = conversationReferenceFor({ botId: '@RBT#helper', groupId: 'g1' });
    expect(targetOf(group)).toEqual({ botId: '@RBT#helper', groupId: 'g1' });
    // An outgoing activity names the bot in `from` and the user in `recipient`.
    expect(
      targetOf({
        from: { id: '@RBT#b', name: '' },
        recipient: { id: 'bob', name: '' },
        conversation: { id: 'x', isGroup: false, conversationType: 'personal', name: '' },
      }),
    ).toEqual({ botId: '@RBT#b', userId: 'bob' });
  });

  it('reads streaminfo from entities, or from channelData as teams-ai mirrors it', () => {
    expect(
      streamInfoOf({ entities: [{ type: 'streaminfo', streamType: 'streaming', streamId: 's' }] }),
    ).toMatchObject({ streamId: 's' });
    expect(streamInfoOf({ channelData: { streamType: 'final', streamId: 's' } })).toEqual({
      type: 'streaminfo',
      streamType: 'final',
      streamId: 's',
    });
    expect(streamInfoOf({ text: 'plain' })).toBeUndefined();
  });
});

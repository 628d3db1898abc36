import { describe, expect, it } from 'vitest';
import { parseRichMessage } from '../message/rich.js';
import { activityToMessages, cardButtonOf } from './cards.js';
import { targetOf } from './convert.js';

describe('activityToMessages', () => {
  it('turns a hero card into a card, buttons by kind', () => {
    const [card] = activityToMessages({
      type: 'message',
      attachments: [
        {
          contentType: 'application/vnd.microsoft.card.hero',
          content: {
            title: 'Lunch',
            subtitle: 'Today',
            text: 'Pick one',
            images: [{ url: 'https://example.com/a.png' }],
            buttons: [
              { type: 'imBack', title: 'Noodles', value: 'noodles' },
              { type: 'postBack', title: 'Rice', value: { dish: 'rice' } },
              { type: 'messageBack', title: 'Soup', text: 'soup please', value: { id: 3 } },
              { type: 'openUrl', title: 'Menu', value: 'https://example.com/menu' },
              { type: 'imBack', title: '', value: '' },
            ],
          },
        },
      ],
    });
    expect(card).toEqual({
      type: 'card',
      title: 'Lunch',
      text: 'Today\nPick one',
      imageUrl: 'https://example.com/a.png',
      buttons: [
        { title: 'Noodles', type: 'message', value: 'noodles' },
        { title: 'Rice', type: 'message', value: '{"dish":"rice"}' },
        { title: 'Soup', type: 'message', value: 'soup please' },
        { title: 'Menu', type: 'url', url: 'https://example.com/menu' },
      ],
    });
    expect(parseRichMessage(card)).toEqual(card);
  });

  it('turns an Adaptive Card into a card: first text the title, the rest the text, submit and open-URL actions', () => {
    const [card] = activityToMessages({
      attachments: [
        {
          contentType: 'application/vnd.microsoft.card.adaptive',
          content: {
            type: 'AdaptiveCard',
            body: [
              { type: 'TextBlock', text: 'Order #42', weight: 'bolder' },
              { type: 'Container', items: [{ type: 'TextBlock', text: 'Ready at noon' }] },
              { type: 'FactSet', facts: [{ title: 'Total', value: '12 EUR' }] },
              { type: 'Image', url: 'https://example.com/o.png' },
            ],
            actions: [
              { type: 'Action.Submit', title: 'Confirm', data: 'confirm 42' },
              { type: 'Action.Submit', title: 'Cancel', data: { id: 42 } },
              { type: 'Action.OpenUrl', title: 'Track', url: 'https://example.com/t/42' },
            ],
          },
        },
      ],
    });
    expect(card).toEqual({
      type: 'card',
      title: 'Order #42',
      text: 'Ready at noon\nTotal: 12 EUR',
      imageUrl: 'https://example.com/o.png',
      buttons: [
        { title: 'Confirm', type: 'message', value: 'confirm 42' },
        { title: 'Cancel', type: 'message', value: 'Cancel' },
        { title: 'Track', type: 'url', url: 'https://example.com/t/42' },
      ],
    });
  });

  it('puts suggested actions on a card around the text, then images and files, then other attachments as text', () => {
    expect(
      activityToMessages({
        text: 'Which size?',
        suggestedActions: {
          actions: [
            { type: 'imBack', title: 'Small', value: 'small' },
            { title: 'Large', value: 'large' },
          ],
        },
        attachments: [
          { contentType: 'image/png', contentUrl: 'https://example.com/p.png', name: 'photo' },
          { contentType: 'application/pdf', contentUrl: 'https://example.com/files/menu.pdf' },
          { contentType: 'application/vnd.microsoft.card.receipt', content: { title: 'Receipt' } },
        ],
      }),
    ).toEqual([
      {
        type: 'card',
        text: 'Which size?',
        buttons: [
          { title: 'Small', type: 'message', value: 'small' },
          { title: 'Large', type: 'message', value: 'large' },
        ],
      },
      { type: 'image', url: 'https://example.com/p.png', alt: 'photo' },
      { type: 'file', url: 'https://example.com/files/menu.pdf', name: 'menu.pdf' },
      { type: 'text', text: 'Receipt' },
    ]);
  });

  it('keeps at most 10 buttons, and drops actions with nothing to show', () => {
    const actions = Array.from({ length: 14 }, (_, i) => ({
      type: 'imBack',
      title: `B${i}`,
      value: `b${i}`,
    }));
    const [card] = activityToMessages({ text: 't', suggestedActions: { actions } });
    expect(card?.type === 'card' && card.buttons.length).toBe(10);
    expect(cardButtonOf({ type: 'imBack' })).toBeUndefined();
  });
});

describe('targetOf with mentionUser', () => {
  const reply = {
    from: { id: '@RBT#1', role: 'bot' },
    recipient: { id: 'alice', role: 'user' },
    conversation: { id: 'g1', isGroup: true },
  };
  it('@-mentions the recipient of a group reply, and nobody one-to-one or unasked', () => {
    expect(targetOf(reply, { mentionUser: true })).toEqual({
      botId: '@RBT#1',
      groupId: 'g1',
      mention: ['alice'],
    });
    expect(targetOf(reply)).toEqual({ botId: '@RBT#1', groupId: 'g1' });
    expect(targetOf({ ...reply, conversation: { id: 'alice|@RBT#1' } }, { mentionUser: true })).toEqual({
      botId: '@RBT#1',
      userId: 'alice',
    });
    // A proactive reference to a group names no user: nobody is mentioned.
    expect(
      targetOf({ bot: { id: '@RBT#1' }, conversation: { id: 'g1', isGroup: true } }, { mentionUser: true }),
    ).toEqual({
      botId: '@RBT#1',
      groupId: 'g1',
    });
  });
});

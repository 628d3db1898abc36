import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../errors.js';
import {
  cardPayload,
  fallbackText,
  mentionPrefix,
  mentionTag,
  parseButtonPress,
  parseRichMessage,
  type RichMessage,
} from './rich.js';

describe('parseRichMessage', () => {
  it.each([
    [{ type: 'image', url: 'ftp://example.com/a.png' }, 'message.url'],
    [{ type: 'file', url: 'https://example.com/a', name: '' }, 'message.name'],
    [{ type: 'card', buttons: [] }, 'message'],
    [
      { type: 'card', title: 'T', buttons: [{ title: 'Go', type: 'url', url: 'javascript:alert(1)' }] },
      'message.buttons.0.url',
    ],
    [
      { type: 'card', title: 'T', buttons: [{ title: 'Go', type: 'message', value: '' }] },
      'message.buttons.0.value',
    ],
    [{ type: 'video', url: 'https://example.com/v.mp4' }, 'message.type'],
    [{ type: 'text', text: 'hi', extra: 1 }, 'message'],
  ])('refuses %j naming %s', (message, field) => {
    const error = (() => {
      try {
        parseRichMessage(message);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ field });
  });
});

const url = fc.webUrl({ validSchemes: ['https'] });
const text = fc.string({ minLength: 1, maxLength: 40 });
const button = fc.oneof(
  fc.record({ title: text, type: fc.constant('message' as const), value: text }),
  fc.record({ title: text, type: fc.constant('url' as const), url }),
);
const rich: fc.Arbitrary<RichMessage> = fc.oneof(
  fc.record({ type: fc.constant('text' as const), text }),
  fc.record({ type: fc.constant('image' as const), url }, { requiredKeys: ['type', 'url'] }),
  fc.record({ type: fc.constant('file' as const), url, name: text }),
  fc.record(
    {
      type: fc.constant('card' as const),
      title: text,
      text,
      imageUrl: url,
      buttons: fc.array(button, { maxLength: 10 }),
    },
    { requiredKeys: ['type', 'title', 'buttons'] },
  ),
);

describe('fallbackText', () => {
  it('shows every link and every button title of any message', () => {
    fc.assert(
      fc.property(rich, (message) => {
        const shown = fallbackText(message);
        const expected: string[] = [];
        if (message.type === 'image' || message.type === 'file') expected.push(message.url);
        if (message.type === 'card') {
          if (message.imageUrl) expected.push(message.imageUrl);
          for (const b of message.buttons) expected.push(b.title, ...(b.type === 'url' ? [b.url] : []));
        }
        for (const part of expected) expect(shown).toContain(part);
      }),
    );
  });

  it("numbers a card's buttons so a user can answer by typing one", () => {
    expect(
      fallbackText({
        type: 'card',
        title: 'Lunch',
        buttons: [
          { title: 'Noodles', type: 'message', value: 'n' },
          { title: 'Menu', type: 'url', url: 'https://example.com/m' },
        ],
      }),
    ).toBe('Lunch\n1. Noodles\n2. Menu: https://example.com/m');
  });
});

describe('button presses', () => {
  it('reads a press from its JSON, as a string or parsed, and nothing else', () => {
    const press = { businessID: 'imbot_button', value: 'yes', messageId: '7' };
    expect(parseButtonPress(JSON.stringify(press))).toEqual({ value: 'yes', messageId: '7' });
    expect(parseButtonPress({ businessID: 'imbot_button', value: 'no' })).toEqual({ value: 'no' });
    expect(parseButtonPress('{not json')).toBeUndefined();
    expect(
      parseButtonPress(JSON.stringify(cardPayload({ type: 'card', title: 'T', buttons: [] }))),
    ).toBeUndefined();
    expect(parseButtonPress({ businessID: 'imbot_button', value: '' })).toBeUndefined();
  });
});

describe('mentions in text', () => {
  it('writes @ and the id, but a robot id that starts with @ as it is, never @@', () => {
    expect(mentionTag('bob')).toBe('@bob');
    expect(mentionTag('@RBT#helper')).toBe('@RBT#helper');
    expect(mentionPrefix(['@RBT#helper', 'bob'])).toBe('@RBT#helper @bob ');
  });
});

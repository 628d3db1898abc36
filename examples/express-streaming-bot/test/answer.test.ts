import { describe, expect, it } from 'vitest';
import { MENU_ANSWERS, offlineAnswer } from '../src/answer.js';
import { MENU } from '../src/bot.js';

describe('the demo menu', () => {
  it('answers every button for real, and links to no page', () => {
    for (const button of MENU.buttons) {
      expect(button.type).toBe('message');
      const value = (button as { value: string }).value;
      expect(MENU_ANSWERS[value]).toBeDefined();
      expect(offlineAnswer([{ role: 'user', content: value }])).not.toMatch(/^You said/);
    }
    expect(offlineAnswer([{ role: 'user', content: 'hello' }])).toMatch(/^You said "hello"/);
  });
});

describe('the stand-in model', () => {
  it('answers from the history it is given, as a model would', () => {
    expect(
      offlineAnswer([
        { role: 'user', content: 'my name is Ann' },
        { role: 'assistant', content: 'You said "my name is Ann".' },
        { role: 'user', content: 'what did I just say?' },
      ]),
    ).toMatch(/^You just said "my name is Ann"/);
    expect(offlineAnswer([{ role: 'user', content: 'what did I just say?' }])).toMatch(
      /first thing you said/,
    );
    expect(
      offlineAnswer([
        { role: 'user', content: [{ type: 'image', image: 'https://cdn.example.com/cat.png' }] },
      ]),
    ).toBe(
      'You sent a picture (https://cdn.example.com/cat.png). A model would see it as it is; I only name it.',
    );
  });
});

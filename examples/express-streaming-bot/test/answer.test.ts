import { describe, expect, it } from 'vitest';
import { MENU_ANSWERS, offlineAnswer } from '../src/answer.js';
import { MENU } from '../src/bot.js';

describe('the demo menu', () => {
  it('answers every button for real, and links to no page', () => {
    for (const button of MENU.buttons) {
      expect(button.type).toBe('message');
      const value = (button as { value: string }).value;
      expect(MENU_ANSWERS[value]).toBeDefined();
      expect(offlineAnswer(value)).not.toMatch(/^You said/);
    }
    expect(offlineAnswer('hello')).toMatch(/^You said "hello"/);
  });
});

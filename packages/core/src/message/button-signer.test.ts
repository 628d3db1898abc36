import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { InboundMessage } from '../platform.js';
import {
  BUTTON_TTL_MS,
  ButtonPressRefusedError,
  ButtonSigner,
  openButtonValue,
  signButtonValue,
} from './button-signer.js';

const key = new Uint8Array(32).fill(7);
const scope = { botId: '@RBT#bot', conversation: 'c2c:alice' };
const NOW = 1_700_000_000_000;

describe('signed button values', () => {
  it('open to the value they were signed with, for any value', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), (value) => {
        const opened = openButtonValue(
          key,
          scope,
          signButtonValue(key, scope, value, NOW),
          NOW,
          BUTTON_TTL_MS,
        );
        expect(opened).toEqual({ value, nonce: expect.any(String) });
      }),
    );
  });

  it('refuse a press from another conversation, for another bot, under another key, altered, made up or too old', () => {
    const signed = signButtonValue(key, scope, 'deploy 42', NOW);
    const open = (k: Uint8Array, s: typeof scope, v: string, now = NOW) =>
      openButtonValue(k, s, v, now, BUTTON_TTL_MS);
    expect(open(key, { ...scope, conversation: 'c2c:mallory' }, signed)).toEqual({ problem: 'bad-mac' });
    expect(open(key, { ...scope, conversation: 'group:alice' }, signed)).toEqual({ problem: 'bad-mac' });
    expect(open(key, { ...scope, botId: '@RBT#other' }, signed)).toEqual({ problem: 'bad-mac' });
    expect(open(new Uint8Array(32), scope, signed)).toEqual({ problem: 'bad-mac' });
    const [prefix, , mac] = signed.split('.') as [string, string, string];
    const other = Buffer.from(JSON.stringify(['deploy 43', 'n', Math.floor(NOW / 1000)])).toString(
      'base64url',
    );
    expect(open(key, scope, `${prefix}.${other}.${mac}`)).toEqual({ problem: 'bad-mac' });
    for (const bad of ['imb1.', `${prefix}.x`, `${signed}.x`]) {
      expect(open(key, scope, bad)).toEqual({ problem: 'malformed' });
    }
    expect(open(key, scope, 'deploy 42')).toEqual({ problem: 'unsigned' });
    expect(open(key, scope, signed, NOW + BUTTON_TTL_MS + 1000)).toEqual({ problem: 'expired' });
    expect(open(key, scope, signed, NOW + BUTTON_TTL_MS - 1000)).toMatchObject({ value: 'deploy 42' });
  });
});

describe('ButtonSigner', () => {
  const card = {
    type: 'card' as const,
    title: 'Vote',
    buttons: [
      { title: 'Friday', type: 'message' as const, value: 'friday' },
      { title: 'Calendar', type: 'url' as const, url: 'https://example.com/cal' },
    ],
  };
  const press = (value: string, from = 'alice', groupId?: string) =>
    ({
      platform: 'tencent',
      botId: '@RBT#bot',
      from,
      conversation: groupId ? { type: 'group', groupId } : { type: 'c2c', userId: from },
      text: value,
      rawText: value,
      mentions: [],
      messageKey: 'k',
      time: new Date(NOW),
      attachments: [],
      action: { value },
      raw: {},
    }) satisfies InboundMessage;

  it("signs a card's message buttons for the conversation it goes to and opens their presses there only", async () => {
    const signer = new ButtonSigner(key, { now: () => NOW });
    const group = await signer.sign({ botId: '@RBT#bot', groupId: 'g1' }, card);
    const value = group.buttons[0]?.type === 'message' ? group.buttons[0].value : '';
    expect(group.buttons[1]).toEqual(card.buttons[1]);
    expect(await signer.open(press(value, 'bob', 'g1'))).toBe('friday');
    expect(await signer.open(press(value, 'bob', 'g2'))).toEqual(new ButtonPressRefusedError('bad-mac'));
    expect(await signer.open(press('friday', 'bob', 'g1'))).toMatchObject({
      code: 'ACTION_REFUSED',
      problem: 'unsigned',
    });
    expect(await signer.sign({ botId: '@RBT#bot', userId: 'alice' }, { type: 'text', text: 'hi' })).toEqual({
      type: 'text',
      text: 'hi',
    });
  });

  it('takes its key from the secret in force on each use, so a rotated secret signs anew', async () => {
    let current = key;
    const signer = new ButtonSigner(async () => current, { now: () => NOW });
    const signed = await signer.sign({ botId: '@RBT#bot', userId: 'alice' }, card);
    const value = signed.buttons[0]?.type === 'message' ? signed.buttons[0].value : '';
    expect(await signer.open(press(value))).toBe('friday');
    current = new Uint8Array(32).fill(9);
    expect(await signer.open(press(value))).toMatchObject({ problem: 'bad-mac' });
  });

  it('without a key, sends and takes values as they are', async () => {
    const raw = new ButtonSigner(undefined);
    expect(await raw.sign({ botId: '@RBT#bot', userId: 'alice' }, card)).toBe(card);
    expect(await raw.open(press('friday'))).toBe('friday');
  });
});

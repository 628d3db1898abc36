import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openAction, signAction } from './actions.js';

const key = new Uint8Array(32).fill(7);
const where = { botId: '@RBT#bot', threadId: 'tencent:dm:alice' };
const scope = { ...where, nonce: 'n0nce' };

describe('signed card actions', () => {
  it('open to the action they were signed with, for any id and value', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }),
        fc.option(fc.string(), { nil: undefined }),
        (actionId, value) => {
          const action = value === undefined ? { actionId } : { actionId, value };
          expect(openAction(key, where, signAction(key, scope, action))).toEqual({ action, nonce: 'n0nce' });
        },
      ),
    );
  });

  it('refuse a press from another conversation, for another bot, under another key, or altered', () => {
    const signed = signAction(key, scope, { actionId: 'deploy', value: '42' });
    expect(openAction(key, { ...where, threadId: 'tencent:dm:mallory' }, signed)).toEqual({
      problem: 'bad-mac',
    });
    expect(openAction(key, { ...where, botId: '@RBT#other' }, signed)).toEqual({ problem: 'bad-mac' });
    expect(openAction(new Uint8Array(32), where, signed)).toEqual({ problem: 'bad-mac' });
    const [prefix, payload, mac] = signed.split('.') as [string, string, string];
    const other = Buffer.from(JSON.stringify(['deploy', '43', 'n0nce'])).toString('base64url');
    expect(openAction(key, where, `${prefix}.${other}.${mac}`)).toEqual({ problem: 'bad-mac' });
    for (const bad of ['imb1.', `${prefix}.${payload}`, `${prefix}.!!.${mac}`, `${signed}.x`, 'deploy']) {
      expect(openAction(key, where, bad)).toEqual({ problem: 'malformed' });
    }
  });
});

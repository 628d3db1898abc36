import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeThreadId, encodeThreadId, type ImbotThread } from './thread-id.js';

const thread = fc.oneof(
  fc.record({ type: fc.constant('dm' as const), userId: fc.string({ minLength: 1, unit: 'binary' }) }),
  fc.record({ type: fc.constant('group' as const), groupId: fc.string({ minLength: 1, unit: 'binary' }) }),
);

describe('thread ids', () => {
  it('round-trip any user or group id, and always have three parts', () => {
    fc.assert(
      fc.property(fc.constantFrom('tencent', 'rongcloud'), thread, (cloud, t: ImbotThread) => {
        const id = encodeThreadId(cloud, t);
        expect(id.split(':')).toHaveLength(3);
        expect(decodeThreadId(cloud, id)).toEqual(t);
      }),
    );
  });

  it('read as people write them', () => {
    expect(encodeThreadId('tencent', { type: 'dm', userId: 'alice' })).toBe('tencent:dm:alice');
    expect(encodeThreadId('tencent', { type: 'group', groupId: '@TGS#demo' })).toBe(
      'tencent:group:%40TGS%23demo',
    );
  });

  it('refuse another cloud’s ids and malformed ones with a ValidationError', () => {
    for (const bad of [
      'rongcloud:dm:alice',
      'tencent:dm:',
      'tencent:room:x',
      'tencent:dm:a:b',
      'tencent:dm:%E0%A4%A',
      '',
    ]) {
      expect(() => decodeThreadId('tencent', bad)).toThrow(
        expect.objectContaining({ code: 'VALIDATION', field: 'threadId' }),
      );
    }
  });
});

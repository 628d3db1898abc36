import { EventEmitter } from 'eventemitter3';
import { describe, expect, it } from 'vitest';
import type { InboundMessage } from '../platform.js';
import type { StreamSession } from '../stream/session.js';
import { type AnswerHost, AnswerRun } from './answer-run.js';
import { type StopRequest, stoppableBy, stopRequestOf } from './stop.js';

/** A stream session that only says which message it opened. */
function fakeSession(): StreamSession & EventEmitter {
  const session = new EventEmitter() as StreamSession & EventEmitter;
  Object.assign(session, { closed: false, text: '', done: new Promise(() => undefined) });
  return session;
}

function answerTo(message: InboundMessage, opened: string[]): AnswerRun {
  const host = {
    platform: {},
    mentionSender: false,
    transcript: { answer: () => undefined },
    openStream: () => fakeSession(),
  } as unknown as AnswerHost;
  const run = new AnswerRun(message, host);
  for (const messageId of opened)
    (run.stream() as unknown as EventEmitter).emit('open', { messageId, message: 1 });
  return run;
}

const base = {
  platform: 'tencent',
  botId: '@RBT#bot',
  from: 'ann',
  text: '',
  rawText: '',
  mentions: [],
  time: new Date(0),
  attachments: [],
  raw: {},
};
const c2c: InboundMessage = { ...base, conversation: { type: 'c2c', userId: 'ann' }, messageKey: 'k1' };
const group: InboundMessage = { ...base, conversation: { type: 'group', groupId: 'g' }, messageKey: 'g:1' };

/** A TUIKit stop naming `msgKey`, from the same user in the same conversation. */
function stopNaming(message: InboundMessage, msgKey: string | undefined): StopRequest {
  return stopRequestOf({ ...message, stop: true, ...(msgKey ? { stopMessageId: msgKey } : {}) }, false);
}

describe('a stop that names a message', () => {
  it('stops the answer whose stream opened it, one-to-one by its MsgKey, and no other', () => {
    const run = answerTo(c2c, ['5_77_1700000000', '6_78_1700000009']);
    expect(stoppableBy(run, stopNaming(c2c, '6_78_1700000009'))).toBe(true);
    expect(stoppableBy(run, stopNaming(c2c, '5_77_1700000000'))).toBe(true);
    expect(stoppableBy(run, stopNaming(c2c, '4_76_1699999990'))).toBe(false);
    // A stop word names no message: it stops the sender's answer, as before.
    expect(stoppableBy(run, stopNaming(c2c, undefined))).toBe(true);
  });

  it('in a group, matches the MsgSeq part of the key TUIKit builds (seq_random_time)', () => {
    const run = answerTo(group, ['42']);
    expect(stoppableBy(run, stopNaming(group, '42_9001_1700000000'))).toBe(true);
    expect(stoppableBy(run, stopNaming(group, '41_9001_1700000000'))).toBe(false);
    expect(stoppableBy(run, stopNaming(group, '_42'))).toBe(false);
  });

  it('carries the name to other replicas: the stop request keeps it', () => {
    expect(stopNaming(c2c, '1_2_3')).toMatchObject({ messageId: '1_2_3', from: 'ann' });
    expect(stopNaming(c2c, undefined)).not.toHaveProperty('messageId');
  });
});

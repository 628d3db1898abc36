import { describe, expect, it } from 'vitest';
import { ImbotError, InterruptedError } from '../errors.js';
import type { InboundMessage } from '../platform.js';
import { type Concurrency, Lanes, type Run } from './lanes.js';

const message = (from: string, text: string): InboundMessage => ({
  platform: 'test',
  botId: 'bot',
  from,
  conversation: { type: 'c2c', userId: from },
  text,
  rawText: text,
  mentions: [],
  messageKey: text,
  time: new Date(0),
  attachments: [],
  raw: {},
});

/** Lanes whose runs finish when told, recording starts and interruptions. */
function harness(policy: Concurrency) {
  const lanes = new Lanes(policy);
  const log: string[] = [];
  const reasons: ImbotError[] = [];
  const finishers = new Map<string, () => void>();
  const add = (from: string, text: string) =>
    lanes.add(message(from, text), {
      start: (): Run => {
        log.push(`start ${text}`);
        let finish: () => void = () => undefined;
        const done = new Promise<void>((resolve) => {
          finish = resolve;
        });
        finishers.set(text, finish);
        return {
          message: message(from, text),
          done,
          interrupt: (reason) => log.push(`interrupt ${text}`) && reasons.push(reason),
        };
      },
      drop: () => log.push(`drop ${text}`),
    });
  const finish = async (text: string) => {
    finishers.get(text)?.();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { lanes, log, reasons, add, finish };
}

describe('Lanes', () => {
  it('queue: one message at a time per user, in order; other users are not held up', async () => {
    const { log, add, finish, lanes } = harness('queue');
    add('alice', 'a1');
    add('alice', 'a2');
    add('bob', 'b1');
    expect(log).toEqual(['start a1', 'start b1']);
    expect(lanes.pending).toBe(3);
    await finish('a1');
    expect(log).toEqual(['start a1', 'start b1', 'start a2']);
    await finish('a2');
    await finish('b1');
    expect(lanes.pending).toBe(0);
    await lanes.idle();
  });

  it('interrupt: a newer message interrupts the answer in progress, then runs', async () => {
    const { log, reasons, add, finish } = harness('interrupt');
    add('alice', 'a1');
    add('alice', 'a2');
    expect(log).toEqual(['start a1', 'interrupt a1']);
    expect(reasons[0]).toBeInstanceOf(InterruptedError);
    expect(reasons[0]?.code).toBe('INTERRUPTED');
    await finish('a1');
    expect(log).toEqual(['start a1', 'interrupt a1', 'start a2']);
  });

  it('concurrent: everything starts at once', () => {
    const { log, add } = harness('concurrent');
    add('alice', 'a1');
    add('alice', 'a2');
    expect(log).toEqual(['start a1', 'start a2']);
  });

  it('stop: interrupts what runs and drops what waits; idle() follows the last run', async () => {
    const { log, add, finish, lanes } = harness('queue');
    add('alice', 'a1');
    add('alice', 'a2');
    const dropped: string[] = [];
    lanes.stop(new ImbotError('SHUTTING_DOWN', 'closing'), (m) => dropped.push(m.text));
    expect(dropped).toEqual(['a2']);
    expect(log).toEqual(['start a1', 'drop a2', 'interrupt a1']);
    const idle = lanes.idle();
    await finish('a1');
    await idle;
    expect(lanes.pending).toBe(0);
  });
});

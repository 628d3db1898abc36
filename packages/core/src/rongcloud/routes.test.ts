import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebhookVerificationError } from '../errors.js';
import { isRoutedBody, parseRoutedMessage, type RoutedMessage, RoutedStreams } from './routes.js';

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const fields = {
  fromUserId: 'bot-1',
  toUserId: 'ann',
  objectName: 'RC:StreamMsg',
  content: JSON.stringify({ content: 'Hello', seq: 1 }),
  channelType: 'PERSON',
  msgTimestamp: '1796459315719',
  msgUID: 'BVQ2-0000-0001',
  sensitiveType: '0',
  source: 'Server',
};

function routed(overrides: Partial<RoutedMessage> = {}): RoutedMessage {
  return {
    msgUID: 'UID-1',
    from: 'bot-1',
    to: 'ann',
    channelType: 'PERSON',
    objectName: 'RC:StreamMsg',
    content: { content: 'Hello', seq: 1 },
    time: Date.now(),
    ...overrides,
  };
}

describe('parseRoutedMessage', () => {
  it('reads the form full message routing posts', () => {
    expect(parseRoutedMessage(form(fields))).toEqual({
      msgUID: 'BVQ2-0000-0001',
      from: 'bot-1',
      to: 'ann',
      channelType: 'PERSON',
      objectName: 'RC:StreamMsg',
      content: { content: 'Hello', seq: 1 },
      time: 1796459315719,
    });
  });

  it('takes fields a body parser already read, and content that is not JSON as empty', () => {
    expect(parseRoutedMessage({ ...fields, content: 'not json' }).content).toEqual({});
  });

  it('refuses a body without the routing fields as malformed, naming the field', () => {
    const { msgUID: _, ...rest } = fields;
    expect(() => parseRoutedMessage(form(rest))).toThrow(WebhookVerificationError);
    expect(() => parseRoutedMessage(form(rest))).toThrow(/msgUID/);
    expect(() => parseRoutedMessage(form({ ...fields, msgTimestamp: 'soon' }))).toThrow(/msgTimestamp/);
  });

  it('tells a routed body from a bot webhook by its form type, or its fields', () => {
    expect(isRoutedBody('application/x-www-form-urlencoded; charset=utf-8', undefined)).toBe(true);
    expect(isRoutedBody('application/json', { type: 'message:private' })).toBe(false);
    expect(isRoutedBody(undefined, { msgUID: 'x', msgTimestamp: '1' })).toBe(true);
  });
});

const ann = { from: 'bot-1', to: 'ann', since: 0 };
const all = () => true;

describe('RoutedStreams', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('keeps streamed messages only, and finds them at once by sender, receiver and time', async () => {
    const routes = new RoutedStreams();
    routes.record(routed({ objectName: 'RC:TxtMsg', msgUID: 'text' }));
    routes.record(routed({ to: 'bob', msgUID: 'to-bob' }));
    routes.record(routed({ time: 5, msgUID: 'early' }));
    routes.record(routed());
    const found = await routes.find({ ...ann, since: 10 }, all, 0);
    expect(found.map((m) => m.msgUID)).toEqual(['UID-1']);
    expect(await routes.find(ann, (m) => m.content.content === 'Bye', 0)).toEqual([]);
  });

  it('waits for a route that has not come yet, and answers empty when none comes in time', async () => {
    vi.useFakeTimers();
    const routes = new RoutedStreams();
    const waiting = routes.find(ann, all, 2000);
    routes.record(routed({ to: 'bob', msgUID: 'other' }));
    routes.record(routed());
    expect((await waiting).map((m) => m.msgUID)).toEqual(['UID-1']);
    const none = routes.find({ ...ann, to: 'cy' }, all, 2000);
    await vi.advanceTimersByTimeAsync(2000);
    expect(await none).toEqual([]);
  });

  it('leaves out the messages its streams claimed, even a claim made before the route came', async () => {
    const routes = new RoutedStreams();
    routes.claim(ann, 'UID-1');
    routes.record(routed());
    routes.record(routed({ msgUID: 'UID-2' }));
    expect((await routes.find(ann, all, 0)).map((m) => m.msgUID)).toEqual(['UID-2']);
  });

  it('forgets routes older than two minutes', async () => {
    let now = 1_000_000;
    const routes = new RoutedStreams(() => now);
    routes.record(routed({ msgUID: 'old', time: now }));
    now += 121_000;
    routes.record(routed({ msgUID: 'new', time: now }));
    expect((await routes.find(ann, all, 0)).map((m) => m.msgUID)).toEqual(['new']);
  });
});

import { describe, expect, it, vi } from 'vitest';
import { NetworkError } from '../errors.js';
import { type RoutedMessage, RoutedStreams } from './routes.js';
import { RongStreamTransport } from './streams.js';

const lostAnswer = () => new NetworkError('/v3/message/private/publish_stream.json', true, 'reset');

function route(msgUID: string, content: string): RoutedMessage {
  return {
    msgUID,
    from: 'bot',
    to: 'ann',
    channelType: 'PERSON',
    objectName: 'RC:StreamMsg',
    content: { content, seq: 1 },
    time: Date.now(),
  };
}

describe('RongStreamTransport, an opening call found through routes', () => {
  it('never recalls the message of a reopened call whose own answer is lost too, when its route comes first', async () => {
    const routes = new RoutedStreams();
    const recalled: string[] = [];
    const answers: (() => Promise<{ code: number; messageUID: string }>)[] = [
      // The first opening call: not applied, its answer lost.
      () => Promise.reject(lostAnswer()),
      // The second: applied, its route here before its answer is lost.
      () => {
        routes.record(route('B', 'Hello'));
        return Promise.reject(lostAnswer());
      },
      // The closing call.
      () => Promise.resolve({ code: 200, messageUID: 'B' }),
    ];
    const bodies: unknown[] = [];
    const call = ((_: string, body: Record<string, unknown>) => {
      bodies.push(body.content);
      return (answers.shift() as () => Promise<never>)();
    }) as never;
    const transport = new RongStreamTransport(
      call,
      async () => undefined,
      { from: 'bot', to: 'ann' },
      undefined,
      {
        routes,
        waitMs: 10,
        recall: async (m) => {
          recalled.push(m.msgUID);
        },
      },
    );

    await expect(transport.send('Hello', false)).rejects.toThrow();
    expect(await transport.readBack()).toEqual({ applied: false });
    await expect(transport.send('Hello', false)).rejects.toThrow();
    // The watch for the first call's late route saw B's route meanwhile; B is adopted all the same.
    expect(await transport.readBack()).toEqual({ applied: true, messageId: 'B' });
    expect(await transport.send('', true)).toEqual({ messageId: 'B' });
    expect(bodies.at(-1)).toMatchObject({ messageUID: 'B', seq: 2, complete: true });
    // A late route of a message nobody opened is still recalled.
    routes.record(route('A', 'Hello'));
    await expect.poll(() => recalled).toEqual(['A']);
  });
});

describe('RongStreamTransport, the watch for a late route', () => {
  it('stops, its timer with it, when the client closes', async () => {
    vi.useFakeTimers();
    try {
      const closing = new AbortController();
      const call = (() => Promise.reject(lostAnswer())) as never;
      const transport = new RongStreamTransport(
        call,
        async () => undefined,
        { from: 'bot', to: 'ann' },
        undefined,
        { routes: new RoutedStreams(), waitMs: 10, recall: async () => undefined, closed: closing.signal },
      );
      await expect(transport.send('Hello', false)).rejects.toThrow();
      const judged = transport.readBack();
      await vi.advanceTimersByTimeAsync(10);
      expect(await judged).toEqual({ applied: false });
      // Judged not applied: the watch waits up to a minute for a late route.
      expect(vi.getTimerCount()).toBe(1);
      closing.abort();
      await vi.advanceTimersByTimeAsync(0);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});

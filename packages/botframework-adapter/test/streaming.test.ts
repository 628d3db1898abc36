import { type Activity, TestAdapter, type TurnContext } from 'botbuilder';
import { describe, expect, it } from 'vitest';
import { getStreamingResponse, streamText } from '../src/index.js';

/** Runs `logic` on one user message through botbuilder's own TestAdapter; returns what the bot sent. */
async function replies(logic: (context: TurnContext) => Promise<void>): Promise<Partial<Activity>[]> {
  const adapter = new TestAdapter(logic);
  await adapter.sendTextToBot('hi', logic);
  return [...adapter.activeQueue];
}

describe('the streaming helper, under TestAdapter', () => {
  it('sends typing updates with cumulative text and streaminfo, then one final message', async () => {
    const sent = await replies(async (context) => {
      async function* tokens() {
        for (const t of ['Hel', 'lo', ', ', 'world']) {
          yield t;
          await new Promise((resolve) => setTimeout(resolve, 15));
        }
      }
      await streamText(context, tokens(), { intervalMs: 10 });
    });
    const final = sent.at(-1);
    expect(final).toMatchObject({ type: 'message', text: 'Hello, world' });
    expect(final?.entities).toEqual([
      { type: 'streaminfo', streamType: 'final', streamId: expect.any(String) },
    ]);
    const updates = sent.slice(0, -1);
    expect(updates.length).toBeGreaterThanOrEqual(2);
    updates.forEach((update, i) => {
      expect(update.type).toBe('typing');
      expect(update.entities?.[0]).toMatchObject({
        type: 'streaminfo',
        streamType: 'streaming',
        streamSequence: i + 1,
      });
      expect('Hello, world'.startsWith(update.text ?? '')).toBe(true);
      if (i > 0) {
        expect(update.entities?.[0]).toMatchObject({ streamId: final?.entities?.[0]?.streamId });
        expect((update.text ?? '').length).toBeGreaterThan((updates[i - 1]?.text ?? '').length);
      }
    });
    expect(final?.channelData).toMatchObject({ streamType: 'final' });
  });

  it('sends an informative update only before any text, and coalesces chunks', async () => {
    const sent = await replies(async (context) => {
      const stream = getStreamingResponse(context, { intervalMs: 30 });
      stream.queueInformativeUpdate('Searching…');
      stream.queueTextChunk('one ');
      stream.queueTextChunk('two ');
      stream.queueTextChunk('three');
      stream.queueInformativeUpdate('ignored: text has started');
      await stream.endStream();
      expect(() => stream.queueTextChunk('late')).toThrow(/ended/);
    });
    expect(
      sent.map((a) => [a.type, a.text, (a.entities?.[0] as { streamType?: string })?.streamType]),
    ).toEqual([
      ['typing', 'Searching…', 'informative'],
      ['typing', 'one two three', 'streaming'],
      ['message', 'one two three', 'final'],
    ]);
  });

  it('is the same helper for the whole turn, and another turn gets its own', async () => {
    const helpers: unknown[] = [];
    const logic = async (context: TurnContext) => {
      helpers.push(getStreamingResponse(context), getStreamingResponse(context));
    };
    const adapter = new TestAdapter(logic);
    await adapter.sendTextToBot('first', logic);
    await adapter.sendTextToBot('second', logic);
    expect(helpers).toHaveLength(4);
    expect(helpers[0]).toBe(helpers[1]);
    expect(helpers[2]).toBe(helpers[3]);
    expect(helpers[0]).not.toBe(helpers[2]);
  });
});

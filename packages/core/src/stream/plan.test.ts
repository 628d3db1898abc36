import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { utf8Bytes } from '../validation.js';
import { type PlanInput, type PlanLimits, planCall, planWindowUnits } from './plan.js';

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
const boundaries = (text: string) =>
  new Set([...segmenter.segment(text)].map((s) => s.index).concat(text.length));

const piece = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.constantFrom('👩‍👩‍👧‍👦', '👍🏽', '🇫🇷', 'e\u0301', '流式输出', ' ', '\n', 'word ', 'sentence. '),
);
const pending = fc.array(piece, { minLength: 0, maxLength: 120 }).map((parts) => parts.join(''));

const limits: fc.Arbitrary<PlanLimits> = fc
  .record({
    maxMessageBytes: fc.integer({ min: 256, max: 2048 }),
    maxChunkBytes: fc.integer({ min: 64, max: 2048 }),
    emptyFinalChunk: fc.boolean(),
  })
  .map((l) => ({
    ...l,
    maxChunkBytes: Math.min(l.maxChunkBytes, l.maxMessageBytes),
    reserveBytes: Math.min(256, Math.floor(l.maxMessageBytes / 4)),
  }));

/** The planner's input as a session builds it: a window on the head of the pending text. */
function input(text: string, l: PlanLimits, mode: PlanInput['mode'], messageBytes: number, open: boolean) {
  const window = text.slice(0, planWindowUnits(l));
  return {
    mode,
    window,
    whole: window.length === text.length,
    pendingBytes: utf8Bytes(text),
    messageOpen: open,
    messageBytes,
    limits: l,
  };
}

describe('planCall', () => {
  it('takes a prefix that fits the chunk and the message, ends on a grapheme boundary, and counts its bytes', () => {
    fc.assert(
      fc.property(
        pending,
        limits,
        fc.constantFrom('stream', 'closing', 'recovering') as fc.Arbitrary<PlanInput['mode']>,
        fc.double({ min: 0, max: 1, noNaN: true }),
        (text, l, mode, used) => {
          const open = used > 0.2;
          const messageBytes = open ? Math.floor(used * (l.maxMessageBytes - l.reserveBytes)) : 0;
          const plan = planCall(input(text, l, mode, messageBytes, open));
          if (!plan) return;
          expect(text.startsWith(plan.chunk)).toBe(true);
          expect(plan.units).toBe(plan.chunk.length);
          expect(plan.bytes).toBe(utf8Bytes(plan.chunk));
          expect(plan.bytes).toBeLessThanOrEqual(l.maxChunkBytes);
          expect(messageBytes + plan.bytes).toBeLessThanOrEqual(l.maxMessageBytes);
          expect(boundaries(text).has(plan.units)).toBe(true);
          if (!plan.final && mode === 'stream') {
            // What stays open keeps its reserve, so the closing call always has room.
            expect(messageBytes + plan.bytes).toBeLessThanOrEqual(l.maxMessageBytes - l.reserveBytes);
          }
          if (plan.chunk === '') expect(plan.final && l.emptyFinalChunk && open).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('while streaming, holds back the last grapheme; closing, sends all of a text that fits in one final call', () => {
    fc.assert(
      fc.property(pending, limits, (text, l) => {
        const streaming = planCall(input(text, l, 'stream', 0, false));
        const segments = [...segmenter.segment(text)];
        if (streaming) expect(streaming.units).toBeLessThanOrEqual(segments.at(-1)?.index ?? 0);
        const closing = planCall(input(text, l, 'closing', 0, false));
        if (text !== '' && utf8Bytes(text) <= l.maxChunkBytes) {
          expect(closing).toMatchObject({ chunk: text, final: true });
        }
        if (text === '') expect(closing).toBeUndefined();
      }),
    );
  });

  it('closes a message that would outgrow its limit at a clean boundary, and the rest opens the next', () => {
    const l: PlanLimits = {
      maxMessageBytes: 300,
      maxChunkBytes: 200,
      reserveBytes: 75,
      emptyFinalChunk: true,
    };
    const text = `${'a line of text\n'.repeat(10)}more`;
    const plan = planCall(input(text, l, 'stream', 150, true));
    expect(plan).toMatchObject({ final: true });
    expect(plan?.chunk.endsWith('\n')).toBe(true);
    expect(planCall(input(text, l, 'stream', 0, false))).toMatchObject({ final: false, bytes: 153 }); // all but the last grapheme
  });

  it('makes progress through a cluster longer than a chunk, between code points', () => {
    const l: PlanLimits = {
      maxMessageBytes: 12_288,
      maxChunkBytes: 64,
      reserveBytes: 256,
      emptyFinalChunk: false,
    };
    const zalgo = `e${'\u0301'.repeat(500)} tail`;
    const plan = planCall(input(zalgo, l, 'stream', 0, false));
    expect(plan?.units).toBeGreaterThan(0);
    expect(plan?.bytes).toBeLessThanOrEqual(64);
  });

  it('sees only its window: a megabyte of pending text is planned like its first chunk', () => {
    const l: PlanLimits = {
      maxMessageBytes: 12_288,
      maxChunkBytes: 4096,
      reserveBytes: 256,
      emptyFinalChunk: false,
    };
    const text = 'word '.repeat(200_000);
    const plan = planCall(input(text, l, 'stream', 0, false));
    expect(plan).toMatchObject({ final: false, bytes: 4096 });
  });
});

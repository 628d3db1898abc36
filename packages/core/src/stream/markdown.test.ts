import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InMemoryRateLimiter } from '../limits/rate-limiter.js';
import {
  advanceMarkdown,
  closeMarkdown,
  type MarkdownCursor,
  markdownSafeEnd,
  START_OF_MARKDOWN,
} from './markdown.js';
import { StreamScheduler } from './scheduler.js';
import { StreamSession } from './session.js';
import type { StreamTransport } from './transport.js';

const safeEnd = (text: string, cursor: MarkdownCursor = START_OF_MARKDOWN) =>
  text.slice(0, markdownSafeEnd(text, cursor));

describe('markdownSafeEnd', () => {
  it('holds back an open link or image, inline code span, table row and fence opening line', () => {
    expect(safeEnd('See [the docs](https://exa')).toBe('See ');
    expect(safeEnd('See [the docs')).toBe('See ');
    expect(safeEnd('Logo: ![logo](a.png) and ![b')).toBe('Logo: ![logo](a.png) and ');
    expect(safeEnd('Run `npm i')).toBe('Run ');
    expect(safeEnd('Run ``a ` b`` then `x')).toBe('Run ``a ` b`` then ');
    expect(safeEnd('| a | b |\n| - | - |\n| 1 | 2')).toBe('| a | b |\n| - | - |\n');
    expect(safeEnd('Code:\n```typ')).toBe('Code:\n');
    expect(safeEnd('Code:\n`')).toBe('Code:\n');
  });

  it('holds a `!` at the end with a label before it that a `(` could still have made a link', () => {
    // The end found by fast-check: `[]` alone may still become `[](url)`, so it waits with the `!`.
    expect(safeEnd('[]!')).toBe('');
    expect(safeEnd('See [x]!!')).toBe('See ');
    expect(safeEnd('Wow!')).toBe('Wow');
    expect(safeEnd('[a](b) !')).toBe('[a](b) ');
  });

  it('holds nothing when everything is closed, inside a fenced block, or for escaped brackets', () => {
    for (const text of [
      'Plain text, done.',
      'A [link](https://example.com) and `code`.',
      '| a | b |\n',
      'Escaped \\[not a link',
    ])
      expect(safeEnd(text)).toBe(text);
    const inFence = advanceMarkdown(START_OF_MARKDOWN, '```ts\n');
    expect(safeEnd('const a = [1, `x', inFence)).toBe('const a = [1, `x');
    // The fence's closing line ends the block: what follows is held again.
    const closed = advanceMarkdown(inFence, 'x\n```\n');
    expect(closed.inFence).toBe(false);
    expect(safeEnd('[y', closed)).toBe('');
  });

  it('knows a line that began in text already sent', () => {
    const cursor = advanceMarkdown(START_OF_MARKDOWN, 'Intro\n| a ');
    expect(cursor.line).toBe('| a ');
    expect(safeEnd('| b |', cursor)).toBe('');
    expect(safeEnd('| b |\nnext', cursor)).toBe('| b |\nnext');
  });

  const markdownPiece = fc.constantFrom(
    'word ',
    'é ',
    '中文 ',
    '`code` ',
    '`',
    '[',
    ']',
    '(',
    ')',
    '!',
    '|',
    ' | ',
    '\n',
    '```',
    '~~~',
    '**',
    '\\',
    '[link](https://example.com/a) ',
    '![img](i.png)',
    '| a | b |\n',
  );
  const markdown = fc.array(markdownPiece, { maxLength: 60 }).map((pieces) => pieces.join(''));

  it('(property) a safe end is a prefix that is itself safe, and appending its hold keeps it so', () => {
    fc.assert(
      fc.property(markdown, markdown, (sent, window) => {
        const cursor = advanceMarkdown(START_OF_MARKDOWN, sent);
        const end = markdownSafeEnd(window, cursor);
        expect(end).toBeGreaterThanOrEqual(0);
        expect(end).toBeLessThanOrEqual(window.length);
        const prefix = window.slice(0, end);
        expect(markdownSafeEnd(prefix, cursor)).toBe(prefix.length);
      }),
    );
  });

  it('(property) the cursor is the same whatever the text was delivered in', () => {
    fc.assert(
      fc.property(markdown, fc.array(fc.nat(), { maxLength: 8 }), (text, cuts) => {
        const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
        let cursor = START_OF_MARKDOWN;
        let at = 0;
        for (const point of [...points, text.length]) {
          cursor = advanceMarkdown(cursor, text.slice(at, point));
          at = point;
        }
        expect(cursor).toEqual(advanceMarkdown(START_OF_MARKDOWN, text));
      }),
    );
  });
});

describe('closeMarkdown', () => {
  it('closes an open fence, inline code span and strong emphasis; leaves whole markdown as it is', () => {
    expect(closeMarkdown('Code:\n```ts\nconst a = 1;')).toBe('Code:\n```ts\nconst a = 1;\n```');
    expect(closeMarkdown('Run `npm i')).toBe('Run `npm i`');
    expect(closeMarkdown('This is **important')).toBe('This is **important**');
    for (const whole of ['Done.', '**bold** and `code`', '```\nx\n```', '5 * 3 = 15'])
      expect(closeMarkdown(whole)).toBe(whole);
  });
});

/** A transport that answers at once and records the chunks of each message. */
class RecordingTransport implements StreamTransport {
  readonly rateKey = 'md';
  readonly maxMessageBytes = 128 * 1024;
  readonly maxPlainBytes = 1000;
  readonly minCallIntervalMs = 0;
  readonly emptyFinalChunk = true;
  readonly idleLimitMs = 15_000;
  readonly markdown = true;
  chunks: { chunk: string; final: boolean }[] = [];
  async send(chunk: string, final: boolean): Promise<{ messageId: string }> {
    this.chunks.push({ chunk, final });
    return { messageId: 'm1' };
  }
  next(): void {}
  async sendPlain(): Promise<void> {}
  snapshot(): undefined {
    return undefined;
  }
  resume(): void {}
}

describe('a markdown stream session', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(0);
  });
  afterEach(() => vi.useRealTimers());

  const scheduler = () =>
    new StreamScheduler(new InMemoryRateLimiter({ limit: 1000, now: () => Date.now() }), {
      now: () => Date.now(),
    });

  it('holds a half-built link until it closes, and no longer than 1 s', async () => {
    const t = new RecordingTransport();
    const s = new StreamSession(t, scheduler(), { now: () => Date.now(), minIntervalMs: 0 });
    s.write('See [the docs](https://exa');
    await vi.advanceTimersByTimeAsync(10);
    expect(t.chunks.map((c) => c.chunk)).toEqual(['See ']);
    s.write('mple.com) now');
    await vi.advanceTimersByTimeAsync(10);
    expect(t.chunks.map((c) => c.chunk).join('')).toBe('See [the docs](https://example.com) no');
    s.write(' and `never closed');
    await vi.advanceTimersByTimeAsync(500);
    expect(t.chunks.map((c) => c.chunk).join('')).toBe('See [the docs](https://example.com) now and ');
    await vi.advanceTimersByTimeAsync(600);
    expect(t.chunks.map((c) => c.chunk).join('')).toBe(
      'See [the docs](https://example.com) now and `never close',
    );
    await s.end();
    expect(t.chunks.map((c) => c.chunk).join('')).toBe(s.text);
  });

  it('(property) any split of any markdown: the message is exact, and no chunk ends inside a held construct within the bounds', async () => {
    const piece = fc.constantFrom(
      'word ',
      '中文',
      '`x` ',
      '`',
      '[a](b) ',
      '[',
      '](',
      ')',
      '|',
      ' | ',
      '\n',
      '```',
      '![',
      'é',
    );
    await fc.assert(
      fc.asyncProperty(fc.array(piece, { minLength: 1, maxLength: 40 }), async (pieces) => {
        const t = new RecordingTransport();
        const s = new StreamSession(t, scheduler(), {
          now: () => Date.now(),
          minIntervalMs: 0,
          // Bounds past anything written here: every hold lasts until its construct closes or the end.
          markdown: { maxHoldChars: 10_000, maxHoldMs: 60_000 },
        });
        for (const p of pieces) {
          s.write(p);
          await vi.advanceTimersByTimeAsync(5);
        }
        await s.end();
        const text = pieces.join('');
        expect(t.chunks.map((c) => c.chunk).join('')).toBe(text);
        let cursor = START_OF_MARKDOWN;
        for (const { chunk, final } of t.chunks) {
          if (!final) expect(markdownSafeEnd(chunk, cursor)).toBe(chunk.length);
          cursor = advanceMarkdown(cursor, chunk);
        }
      }),
      { numRuns: 60 },
    );
  });
});

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StreamClosedError, StreamSourceError, TimeoutError, ValidationError } from '../errors.js';
import { InMemoryRateLimiter } from '../limits/rate-limiter.js';
import type { TurnPermit } from '../limits/turn-permit.js';
import { TencentApiError } from '../tencent/errors.js';
import { StreamScheduler } from './scheduler.js';
import { type StreamFinish, StreamSession, type StreamSessionOptions } from './session.js';
import type { EndReason, StreamTransport } from './transport.js';
import { TypingIndicator } from './typing.js';

interface Call {
  session: string;
  chunk: string;
  final: boolean;
  at: number;
}

/**
 * A transport that answers after `latencyMs` of (fake) time, records every call, and fails the
 * calls the test asks it to.
 */
class ScriptedTransport implements StreamTransport {
  readonly rateKey = 'stream';
  readonly minCallIntervalMs: number;
  readonly emptyFinalChunk: boolean;
  readonly maxMessageBytes: number;
  readonly maxPlainBytes = 1000;
  readonly idleLimitMs = 15_000;
  messages: string[] = [];
  plain: string[] = [];
  #open = false;
  failNext: unknown[] = [];

  constructor(
    readonly name: string,
    readonly calls: Call[],
    options: {
      latencyMs?: number;
      emptyFinalChunk?: boolean;
      maxMessageBytes?: number;
      minCallIntervalMs?: number;
    } = {},
  ) {
    this.latencyMs = options.latencyMs ?? 10;
    this.emptyFinalChunk = options.emptyFinalChunk ?? true;
    this.maxMessageBytes = options.maxMessageBytes ?? 12 * 1024;
    this.minCallIntervalMs = options.minCallIntervalMs ?? 0;
  }

  readonly latencyMs: number;

  async send(
    chunk: string,
    final: boolean,
    _end?: EndReason,
    turn?: TurnPermit,
  ): Promise<{ messageId: string }> {
    // A request spends the permit of the turn it was made in, as the request layer's budget does.
    const granted = turn?.take() ?? scheduler.acquire(this.rateKey);
    const permit = 'release' in granted ? granted : await granted;
    this.calls.push({ session: this.name, chunk, final, at: Date.now() });
    await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
    permit.release();
    const failure = this.failNext.shift();
    if (failure) throw failure;
    if (!this.#open) this.messages.push('');
    this.#open = !final;
    this.messages[this.messages.length - 1] += chunk;
    return { messageId: `m${this.messages.length}` };
  }

  next(): void {
    this.#open = false;
  }

  async sendPlain(text: string): Promise<void> {
    this.plain.push(text);
  }

  snapshot(): undefined {
    return undefined;
  }

  resume(): void {}
}

let calls: Call[];
let scheduler: StreamScheduler;

function session(transport: ScriptedTransport, options: StreamSessionOptions = {}): StreamSession {
  return new StreamSession(transport, scheduler, { now: () => Date.now(), minIntervalMs: 100, ...options });
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(0);
  calls = [];
  scheduler = new StreamScheduler(new InMemoryRateLimiter({ limit: 200, now: () => Date.now() }), {
    now: () => Date.now(),
  });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('StreamSession scheduling', () => {
  it('sends the first text at once and coalesces what is written while a call is in flight', async () => {
    const t = new ScriptedTransport('a', calls, { latencyMs: 50 });
    const s = session(t, { minIntervalMs: 0 });
    s.write('Hel');
    await vi.advanceTimersByTimeAsync(0);
    s.write('lo');
    s.write(', ');
    s.write('world');
    await vi.advanceTimersByTimeAsync(50);
    await vi.advanceTimersByTimeAsync(50);
    // The last grapheme waits for the next write (it may extend it) or the end.
    expect(calls.map((c) => c.chunk)).toEqual(['He', 'llo, worl']);
  });

  it('waits minIntervalMs after a call before the next, unless maxChunkBytes of text is waiting', async () => {
    const t = new ScriptedTransport('a', calls, { latencyMs: 10 });
    const s = session(t, { minIntervalMs: 300, maxChunkBytes: 64 });
    s.write('ab');
    await vi.advanceTimersByTimeAsync(10); // first call done at t=10
    s.write('c');
    await vi.advanceTimersByTimeAsync(200);
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(100); // t=310: 300 ms after the first call completed
    expect(calls.map((c) => [c.chunk, c.at])).toEqual([
      ['a', 0],
      ['b', 310],
    ]);
    await vi.advanceTimersByTimeAsync(10);
    s.write('x'.repeat(70)); // over maxChunkBytes: no waiting
    await vi.advanceTimersByTimeAsync(0);
    expect(calls[2]).toMatchObject({ chunk: `c${'x'.repeat(63)}`, at: 320 });
  });

  it('never starts two calls of one stream closer than the transport allows', async () => {
    const t = new ScriptedTransport('a', calls, { latencyMs: 1, minCallIntervalMs: 200 });
    const s = session(t, { minIntervalMs: 0 });
    for (let i = 0; i < 10; i++) {
      s.write(`${i}`);
      await vi.advanceTimersByTimeAsync(50);
    }
    const done = s.end();
    await vi.advanceTimersByTimeAsync(1000);
    await done;
    const gaps = calls.slice(1).map((c, i) => c.at - (calls[i] as Call).at);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(200);
    expect(t.messages).toEqual(['0123456789']);
  });

  it('serves sessions round-robin when the budget is short', async () => {
    scheduler = new StreamScheduler(
      new InMemoryRateLimiter({ limit: 1, windowMs: 100, now: () => Date.now() }),
      { now: () => Date.now() },
    );
    const sessions = ['a', 'b', 'c'].map((name) =>
      session(new ScriptedTransport(name, calls, { latencyMs: 0 }), { minIntervalMs: 0 }),
    );
    // "a" is chatty, "b" and "c" write once each.
    for (let i = 0; i < 5; i++) sessions[0]?.write(`a${i} `);
    sessions[1]?.write('b ');
    sessions[2]?.write('c ');
    await vi.advanceTimersByTimeAsync(0);
    for (let i = 0; i < 3; i++) sessions[0]?.write(`more${i} `);
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls.slice(0, 4).map((c) => c.session)).toEqual(['a', 'b', 'c', 'a']);
    // "a" coalesced everything it wrote while waiting into its second call.
    expect(calls[3]?.chunk).toBe(' more0 more1 more2');
  });

  it('finishes an idle session, making the closing call, with abortReason "idle"', async () => {
    const t = new ScriptedTransport('a', calls);
    const s = session(t, { idleTimeoutMs: 1000 });
    const finished = vi.fn();
    s.on('finish', finished);
    s.write('left hanging');
    await vi.advanceTimersByTimeAsync(999);
    expect(finished).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(100);
    expect(finished).toHaveBeenCalledTimes(1);
    expect(finished.mock.calls[0]?.[0]).toMatchObject({ reason: 'aborted', abortReason: 'idle' });
    expect(calls.at(-1)?.final).toBe(true);
    expect(() => s.write('late')).toThrow(StreamClosedError);
  });

  it('end() racing a call in flight: the rest goes in one closing call after it', async () => {
    const t = new ScriptedTransport('a', calls, { latencyMs: 100 });
    const s = session(t, { minIntervalMs: 0 });
    s.write('one ');
    await vi.advanceTimersByTimeAsync(10);
    const done = s.end('two');
    await vi.advanceTimersByTimeAsync(300);
    const result = await done;
    expect(calls.map((c) => [c.chunk, c.final])).toEqual([
      ['one', false],
      [' two', true],
    ]);
    expect(result).toMatchObject({ reason: 'completed', text: 'one two', calls: 2, messages: 1 });
  });

  it('a short reply costs one call', async () => {
    const t = new ScriptedTransport('a', calls, { emptyFinalChunk: false });
    const s = session(t);
    const done = s.end('Hi!');
    await vi.advanceTimersByTimeAsync(20);
    expect(await done).toMatchObject({ calls: 1, messages: 1, reason: 'completed' });
    expect(calls).toEqual([{ session: 'a', chunk: 'Hi!', final: true, at: 0 }]);
  });

  it('holds back the last grapheme when the closing call must carry text', async () => {
    const t = new ScriptedTransport('a', calls, { emptyFinalChunk: false });
    const s = session(t, { minIntervalMs: 0 });
    s.write('Thumbs 👍🏽');
    await vi.advanceTimersByTimeAsync(20);
    expect(calls.map((c) => c.chunk)).toEqual(['Thumbs ']);
    const done = s.end();
    await vi.advanceTimersByTimeAsync(20);
    await done;
    expect(calls.map((c) => [c.chunk, c.final])).toEqual([
      ['Thumbs ', false],
      ['👍🏽', true],
    ]);
  });

  it('closes with an empty chunk when the cloud allows one', async () => {
    const t = new ScriptedTransport('a', calls, { emptyFinalChunk: true });
    const s = session(t, { minIntervalMs: 0 });
    s.write('all of it');
    await vi.advanceTimersByTimeAsync(20);
    const done = s.end();
    await vi.advanceTimersByTimeAsync(20);
    await done;
    expect(calls.map((c) => [c.chunk, c.final])).toEqual([
      ['all of i', false],
      ['t', true],
    ]);
  });

  it('continues in a new message at a clean boundary when the text outgrows one', async () => {
    const t = new ScriptedTransport('a', calls, { maxMessageBytes: 64 });
    const s = session(t, { minIntervalMs: 0 });
    const text =
      'The first line of the reply, long enough.\nThe second line is a little longer than that one.\nEnd.';
    s.write(text);
    const done = s.end();
    await vi.advanceTimersByTimeAsync(200);
    const result = await done;
    expect(t.messages.join('')).toBe(text);
    expect(t.messages.length).toBeGreaterThan(1);
    for (const m of t.messages) expect(Buffer.byteLength(m)).toBeLessThanOrEqual(64);
    expect(t.messages[0]).toBe('The first line of the reply, long enough.\n');
    expect(result.messages).toBe(t.messages.length);
  });
});

describe('StreamSession failures', () => {
  it('after a failed chunk, closes the message with that chunk, keeps taking text, and finishes once with reason error', async () => {
    const t = new ScriptedTransport('a', calls);
    const s = session(t, { minIntervalMs: 0 });
    const finishes: StreamFinish[] = [];
    const errors: unknown[] = [];
    s.on('finish', (r) => finishes.push(r));
    s.on('error', (e) => errors.push(e));
    s.write('first ');
    await vi.advanceTimersByTimeAsync(20);
    t.failNext.push(new TimeoutError('v4/x', 10));
    s.write('second');
    await vi.advanceTimersByTimeAsync(100);
    expect(calls.map((c) => [c.chunk, c.final])).toEqual([
      ['first', false],
      [' secon', false],
      [' second', true],
    ]);
    expect(t.messages).toEqual(['first second']);
    expect(finishes).toHaveLength(0);
    s.write(' and the rest');
    const done = s.end();
    await vi.advanceTimersByTimeAsync(100);
    await done;
    expect(t.plain).toEqual([' and the rest']);
    expect(calls).toHaveLength(3);
    expect(finishes).toHaveLength(1);
    expect(finishes[0]).toMatchObject({
      reason: 'error',
      fallback: true,
      undelivered: '',
      text: 'first second and the rest',
    });
    expect(errors).toHaveLength(1);
    expect(() => s.write('more')).toThrow(StreamClosedError);
  });

  it('falls back to a plain message when the closing call fails too', async () => {
    const t = new ScriptedTransport('a', calls);
    const s = session(t, { minIntervalMs: 0 });
    s.write('first ');
    await vi.advanceTimersByTimeAsync(20);
    const gone = new TencentApiError(10004, 'stream ended', { endpoint: 'v4/x', retryable: false });
    t.failNext.push(gone, gone);
    s.write('second');
    await vi.advanceTimersByTimeAsync(100);
    s.end();
    await vi.advanceTimersByTimeAsync(10);
    const result = await s.done;
    expect(t.messages).toEqual(['first']);
    expect(t.plain).toEqual([' second']);
    expect(result).toMatchObject({ reason: 'error', fallback: true, messages: 2, error: gone });
  });

  it('sends everything as a plain message when the very first call fails', async () => {
    const t = new ScriptedTransport('a', calls);
    const s = session(t, { minIntervalMs: 0 });
    t.failNext.push(new TencentApiError(10004, 'bad', { endpoint: 'v4/x', retryable: false }));
    s.write('hello');
    await vi.advanceTimersByTimeAsync(100);
    expect(t.plain).toEqual([]);
    s.end(' world');
    await vi.advanceTimersByTimeAsync(10);
    expect(t.plain).toEqual(['hello world']);
    expect((await s.done).fallback).toBe(true);
  });

  it('abort() still makes the closing call with what was written', async () => {
    const t = new ScriptedTransport('a', calls);
    const s = session(t, { minIntervalMs: 1000 });
    s.write('partial ');
    await vi.advanceTimersByTimeAsync(20);
    s.write('answer');
    const done = s.abort('user cancelled');
    await vi.advanceTimersByTimeAsync(20);
    expect(await done).toMatchObject({
      reason: 'aborted',
      abortReason: 'user cancelled',
      text: 'partial answer',
    });
    expect(t.messages).toEqual(['partial answer']);
  });

  it('abort() leaves no timer of its own running: pacing, idle limit, keep-alive, markdown holdback', async () => {
    // A limiter with no timers of its own, so that what is counted is the session's.
    scheduler = new StreamScheduler({ acquire: async () => ({ release() {} }) }, { now: () => Date.now() });
    const t = new ScriptedTransport('a', calls, { latencyMs: 10 });
    const s = session(t, { markdown: true, minIntervalMs: 1000 });
    s.write('Hello ');
    await vi.advanceTimersByTimeAsync(20);
    // The next call waits for minIntervalMs, and its link waits for what closes it.
    s.write('see [the docs');
    await vi.advanceTimersByTimeAsync(0);
    expect(vi.getTimerCount()).toBe(4);
    const done = s.abort('user left');
    await vi.advanceTimersByTimeAsync(20);
    expect(await done).toMatchObject({ reason: 'aborted', text: 'Hello see [the docs' });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('an AbortSignal aborts the session', async () => {
    const t = new ScriptedTransport('a', calls);
    const controller = new AbortController();
    const s = session(t, { signal: controller.signal });
    s.write('x');
    controller.abort('stop');
    await vi.advanceTimersByTimeAsync(20);
    expect(await s.done).toMatchObject({ reason: 'aborted', abortReason: 'stop' });
  });

  it('scheduler.close() finishes every open session', async () => {
    const a = session(new ScriptedTransport('a', calls));
    const b = session(new ScriptedTransport('b', calls));
    a.write('a');
    b.write('b');
    const closed = scheduler.close();
    await vi.advanceTimersByTimeAsync(50);
    await closed;
    expect((await a.done).reason).toBe('aborted');
    expect((await b.done).reason).toBe('aborted');
    expect(scheduler.openSessions).toBe(0);
  });
});

describe('StreamSession sources', () => {
  it('pipes an async iterable and ends', async () => {
    const t = new ScriptedTransport('a', calls);
    const s = session(t, { minIntervalMs: 0 });
    async function* tokens() {
      yield 'one ';
      yield 'two ';
      yield 'three';
    }
    const done = s.pipeFrom(tokens());
    await vi.advanceTimersByTimeAsync(100);
    expect(await done).toMatchObject({ reason: 'completed', text: 'one two three' });
    expect(t.messages.join('')).toBe('one two three');
  });

  it('pipes a ReadableStream; a failing source closes the message, finishes with error, and rejects', async () => {
    const t = new ScriptedTransport('a', calls);
    const s = session(t, { minIntervalMs: 0, onSourceError: ' (interrupted)' });
    const finishes: StreamFinish[] = [];
    s.on('finish', (r) => finishes.push(r));
    let pulls = 0;
    const crash = new Error('model crashed');
    const source = new ReadableStream<string>({
      pull(controller) {
        if (pulls++ === 0) controller.enqueue('so far');
        else controller.error(crash);
      },
    });
    const piped = s.pipeFrom(source);
    const rejected = expect(piped).rejects.toMatchObject({ code: 'STREAM_SOURCE', cause: crash });
    await vi.advanceTimersByTimeAsync(100);
    await rejected;
    expect(finishes).toHaveLength(1);
    expect(finishes[0]).toMatchObject({ reason: 'error', error: { code: 'STREAM_SOURCE', cause: crash } });
    expect(finishes[0]?.error).toBeInstanceOf(StreamSourceError);
    expect(t.messages).toEqual(['so far (interrupted)']);
    expect(calls.at(-1)?.final).toBe(true);
  });

  it('pipes an AI SDK fullStream: its text is written, and a tool that runs 9.5 s keeps the typing signal alive, naming it', async () => {
    const t = new ScriptedTransport('a', calls);
    const signals: { at: number; statusText: string | undefined }[] = [];
    const typing = new TypingIndicator(
      {
        rateKey: 'typing',
        renewMs: 4000,
        send: async (statusText) => void signals.push({ at: Date.now(), statusText }),
      },
      scheduler,
    );
    const s = session(t, { minIntervalMs: 0, typing });
    async function* fullStream() {
      yield { type: 'start' };
      yield { type: 'reasoning-delta', text: 'Need the weather.' };
      yield { type: 'tool-call', toolCallId: 'c1', toolName: 'weather', input: { city: 'Paris' } };
      await new Promise((resolve) => setTimeout(resolve, 9500)); // the tool runs
      yield { type: 'tool-result', toolCallId: 'c1', toolName: 'weather', output: '18°C' };
      yield { type: 'text-delta', id: 't1', text: 'It is ' };
      yield { type: 'text-delta', id: 't1', text: '18°C.' };
      yield { type: 'finish', finishReason: 'stop' };
    }
    const done = s.pipeFrom(fullStream());
    await vi.advanceTimersByTimeAsync(10_000);
    expect(await done).toMatchObject({ reason: 'completed', text: 'It is 18°C.' });
    expect(signals).toEqual([
      { at: 0, statusText: undefined },
      { at: 1000, statusText: 'weather' },
      { at: 5000, statusText: 'weather' },
      { at: 9000, statusText: 'weather' },
    ]);
    expect(typing.state).toBe('stopped');
    expect(Math.min(...calls.map((c) => c.at))).toBe(9500);
  });

  it('ends the answer as an error with the interrupted mark on an error part, and the Chat SDK’s chunks stream too', async () => {
    const t = new ScriptedTransport('a', calls);
    const s = session(t, { minIntervalMs: 0 });
    async function* chunks() {
      yield { type: 'task_update', id: 'x', title: 'Searching', status: 'in_progress' };
      yield { type: 'markdown_text', text: 'Half an ' };
      yield { type: 'error', error: new Error('rate limited by the model') };
      yield { type: 'markdown_text', text: 'never shown' };
    }
    const piped = s.pipeFrom(chunks());
    const rejected = expect(piped).rejects.toMatchObject({ code: 'STREAM_SOURCE' });
    await vi.advanceTimersByTimeAsync(100);
    await rejected;
    expect(t.messages).toEqual(['Half an  (answer interrupted)']);
  });

  it('is a WritableStream', async () => {
    const t = new ScriptedTransport('a', calls);
    const s = session(t, { minIntervalMs: 0 });
    const piped = new ReadableStream<string>({
      start(controller) {
        controller.enqueue('via ');
        controller.enqueue('pipeTo');
        controller.close();
      },
    }).pipeTo(s.writable);
    await vi.advanceTimersByTimeAsync(100);
    await piped;
    expect((await s.done).text).toBe('via pipeTo');
  });
});

describe('StreamSession backpressure', () => {
  it('write() returns false at the high-water mark and drain follows once delivered below it', async () => {
    const t = new ScriptedTransport('a', calls, { maxMessageBytes: 12 * 1024 });
    const s = session(t, { minIntervalMs: 0, maxChunkBytes: 1024, highWaterMark: 4096 });
    const drains = vi.fn();
    s.on('drain', drains);
    expect(s.write('x'.repeat(4000))).toBe(true);
    expect(s.write('x'.repeat(96))).toBe(false);
    expect(s.write('more')).toBe(false); // never refused: the text is kept
    expect(drains).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(10);
    expect(s.pendingBytes).toBeLessThan(4096);
    expect(drains).toHaveBeenCalledTimes(1);
    const done = s.end();
    await vi.advanceTimersByTimeAsync(100);
    expect((await done).text).toBe(`${'x'.repeat(4096)}more`);
  });

  it('pipeFrom() reads no further ahead of delivery than the high-water mark and one piece', async () => {
    const t = new ScriptedTransport('a', calls, { maxMessageBytes: 12 * 1024, latencyMs: 50 });
    const s = session(t, { minIntervalMs: 0, maxChunkBytes: 512, highWaterMark: 2048 });
    let produced = 0;
    let lead = 0;
    async function* source() {
      for (let i = 0; i < 400; i++) {
        const delivered = t.messages.join('').length;
        lead = Math.max(lead, produced - delivered);
        produced += 100;
        yield 'y'.repeat(100);
      }
    }
    const done = s.pipeFrom(source());
    await vi.advanceTimersByTimeAsync(10_000);
    const result = await done;
    expect(result.reason).toBe('completed');
    expect(t.messages.join('')).toBe('y'.repeat(40_000));
    expect(lead).toBeLessThanOrEqual(2048 + 512 + 100);
  });

  it('writable holds pipeTo back the same way', async () => {
    const t = new ScriptedTransport('a', calls, { maxMessageBytes: 12 * 1024, latencyMs: 50 });
    const s = session(t, { minIntervalMs: 0, maxChunkBytes: 512, highWaterMark: 2048 });
    let pulled = 0;
    let lead = 0;
    const source = new ReadableStream<string>(
      {
        pull(controller) {
          lead = Math.max(lead, pulled - t.messages.join('').length);
          if (pulled >= 40_000) return controller.close();
          pulled += 100;
          controller.enqueue('z'.repeat(100));
        },
      },
      { highWaterMark: 0 },
    );
    const piped = source.pipeTo(s.writable);
    await vi.advanceTimersByTimeAsync(10_000);
    await piped;
    expect((await s.done).text).toBe('z'.repeat(40_000));
    // The session's pending text plus the writable's own queue, each bounded by the mark.
    expect(lead).toBeLessThanOrEqual(2 * 2048 + 512 + 200);
  });

  it('keepText: false keeps only what is pending, so an endless producer does not grow the heap', async () => {
    const t = new ScriptedTransport('a', calls);
    const s = session(t, { minIntervalMs: 0, keepText: false });
    s.write('first part, ');
    await vi.advanceTimersByTimeAsync(20);
    expect(s.text).toBe(' '); // the held-back grapheme
    const done = s.end('second part');
    await vi.advanceTimersByTimeAsync(20);
    expect(await done).toMatchObject({ reason: 'completed', text: '' });
    expect(t.messages).toEqual(['first part, second part']);
  });

  it('is not idle while its writer waits for drain', async () => {
    let grant: (() => void) | undefined;
    scheduler = new StreamScheduler(
      {
        acquire: () =>
          new Promise((resolve) => {
            grant = () => resolve({ release() {} });
          }),
      },
      { now: () => Date.now() },
    );
    const t = new ScriptedTransport('a', calls);
    const s = session(t, { minIntervalMs: 0, highWaterMark: 100, idleTimeoutMs: 1000 });
    expect(s.write('w'.repeat(150))).toBe(false);
    await vi.advanceTimersByTimeAsync(5000); // the budget is exhausted for 5 s
    expect(s.closed).toBe(false);
    grant?.();
    await vi.advanceTimersByTimeAsync(20);
    expect(calls).toHaveLength(1);
  });
});

describe('StreamSession measures and limits', () => {
  it('reports latencyMs as the age of the oldest text in the chunk, with the last grapheme held back', async () => {
    const t = new ScriptedTransport('a', calls, { emptyFinalChunk: false, latencyMs: 20 });
    const s = session(t, { minIntervalMs: 200 });
    const latencies: number[] = [];
    // When each piece was written, by where it starts in the text.
    const written: { offset: number; at: number }[] = [];
    let length = 0;
    let delivered = 0;
    s.on('flush', (f) => {
      latencies.push(f.latencyMs);
      // The oldest text of the chunk is the piece its first character belongs to.
      const oldest = written.findLast((w) => w.offset <= delivered) as { at: number };
      expect(f.latencyMs).toBe(Date.now() - oldest.at);
      delivered += f.chunk.length;
    });
    for (let i = 0; i < 100; i++) {
      written.push({ offset: length, at: Date.now() });
      s.write(`word${i} `);
      length += `word${i} `.length;
      await vi.advanceTimersByTimeAsync(33);
    }
    const done = s.end();
    await vi.advanceTimersByTimeAsync(500);
    await done;
    expect(latencies.length).toBeGreaterThan(5);
    // Each call takes 20 ms: no chunk arrives sooner after its oldest text was written.
    expect(Math.min(...latencies)).toBeGreaterThanOrEqual(20);
    // A chunk waits at most one interval and one call for its turn: never the age of the session.
    expect(Math.max(...latencies)).toBeLessThanOrEqual(200 + 33 + 2 * 20);
  });

  it('compares maxChunkBytes with UTF-8 bytes, so CJK text flushes at the limit', async () => {
    const t = new ScriptedTransport('a', calls);
    const s = session(t, { minIntervalMs: 10_000, maxChunkBytes: 64 });
    s.write('流');
    await vi.advanceTimersByTimeAsync(20);
    s.write('流'.repeat(30)); // 90 bytes, 30 UTF-16 units: over the byte limit, so no waiting
    await vi.advanceTimersByTimeAsync(20);
    expect(calls.map((c) => Buffer.byteLength(c.chunk))).toEqual([63]);
    const done = s.end();
    await vi.advanceTimersByTimeAsync(100);
    await done;
    for (const c of calls) expect(Buffer.byteLength(c.chunk)).toBeLessThanOrEqual(64);
  });

  it('refuses bad options with a ValidationError naming the option, before any call', () => {
    const t = new ScriptedTransport('a', calls);
    for (const [options, field] of [
      [{ maxChunkBytes: 0 }, 'stream.maxChunkBytes'],
      [{ minIntervalMs: -1 }, 'stream.minIntervalMs'],
      [{ highWaterMark: Number.NaN }, 'stream.highWaterMark'],
      [{ idleTimeoutMs: '10s' }, 'stream.idleTimeoutMs'],
      [{ signal: {} }, 'stream.signal'],
      [{ maxChunkByte: 100 }, 'stream'],
    ] as const) {
      expect(() => session(t, options as StreamSessionOptions)).toThrow(
        expect.objectContaining({ name: 'ValidationError', field }),
      );
    }
    expect(() => session(t, { maxChunkBytes: 0 })).toThrow(ValidationError);
    expect(calls).toHaveLength(0);
    expect(scheduler.openSessions).toBe(0);
  });

  it('closes an open message with nothing to send before the cloud ends it; the next text opens another', async () => {
    const t = new ScriptedTransport('a', calls, { emptyFinalChunk: false });
    const s = session(t, { minIntervalMs: 0, idleTimeoutMs: 60_000 });
    s.write('thinking… ');
    await vi.advanceTimersByTimeAsync(20);
    expect(calls.map((c) => [c.chunk, c.final])).toEqual([['thinking…', false]]);
    await vi.advanceTimersByTimeAsync(11_900);
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(200); // 12 s after the last call: 80 % of the 15 s limit
    expect(calls.map((c) => [c.chunk, c.final])).toEqual([
      ['thinking…', false],
      [' ', true],
    ]);
    s.write('the answer');
    const done = s.end();
    await vi.advanceTimersByTimeAsync(50);
    expect(await done).toMatchObject({ reason: 'completed', messages: 2 });
    expect(t.messages).toEqual(['thinking… ', 'the answer']);
  });
});

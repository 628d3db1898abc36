/**
 * What the streaming benchmarks share: the tokens an LLM would emit, their production at a steady
 * rate, the record of what each user was sent against what the user sees (followed through the
 * emulator's event stream), and the statistics and formats of the tables.
 */
import type { MessageEvent } from './emulator-process.js';

/** A token as an LLM would emit it: a word and a space, now and then CJK or an emoji. */
export function token(session: number, n: number): string {
  const kinds = [`word${n} `, `${session}:${n} `, '流式 ', '👍🏽 ', 'and '];
  return kinds[(session + n) % kinds.length] as string;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/** Jain's fairness index: 1 when every session got the same number of calls. */
export function jain(counts: number[]): number {
  const sum = counts.reduce((a, b) => a + b, 0);
  const squares = counts.reduce((a, b) => a + b * b, 0);
  return squares === 0 ? 1 : (sum * sum) / (counts.length * squares);
}

/**
 * What each user was sent (the independent record), and what the user sees, followed event by
 * event: a token's latency ends when the text shown to its user first holds everything up to it.
 */
export class Delivery {
  readonly #bot: string;
  readonly written: string[];
  readonly #tokenEnds: number[][];
  readonly #tokenAt: number[][];
  readonly #next: number[];
  /** Per user, message key → its latest text and state, in the order the messages appeared. */
  readonly #messages: Map<string, { text: string; state: string }>[];
  readonly #index = new Map<string, number>();
  readonly latencies: number[] = [];
  /** Applied calls per user, with their times. */
  readonly callTimes: number[][];

  constructor(bot: string, users: string[]) {
    this.#bot = bot;
    this.written = users.map(() => '');
    this.#tokenEnds = users.map(() => []);
    this.#tokenAt = users.map(() => []);
    this.#next = users.map(() => 0);
    this.#messages = users.map(() => new Map());
    this.callTimes = users.map(() => []);
    for (const [i, user] of users.entries()) this.#index.set(user, i);
  }

  wrote(user: number, text: string): void {
    this.written[user] += text;
    this.#tokenEnds[user]?.push((this.written[user] as string).length);
    this.#tokenAt[user]?.push(performance.now());
  }

  applied(event: MessageEvent, at: number): void {
    const { message } = event;
    if (message.from !== this.#bot) return;
    const user = this.#index.get(message.to);
    if (user === undefined) return;
    const messages = this.#messages[user] as Map<string, { text: string; state: string }>;
    const before = messages.get(message.msgKey);
    messages.set(message.msgKey, { text: message.text, state: message.state });
    if (before?.text !== message.text || before === undefined) this.callTimes[user]?.push(at);
    const shown = this.shown(user);
    const written = this.written[user] as string;
    // Matched by content: only the part of what is shown that agrees with what was written counts.
    let agree = 0;
    const limit = Math.min(shown.length, written.length);
    while (agree < limit && shown.charCodeAt(agree) === written.charCodeAt(agree)) agree++;
    const ends = this.#tokenEnds[user] as number[];
    const times = this.#tokenAt[user] as number[];
    let i = this.#next[user] as number;
    while (i < ends.length && (ends[i] as number) <= agree) {
      this.latencies.push(at - (times[i] as number));
      i++;
    }
    this.#next[user] = i;
  }

  shown(user: number): string {
    let text = '';
    for (const m of (this.#messages[user] as Map<string, { text: string }>).values()) text += m.text;
    return text;
  }

  /** Users whose messages, all finished, show exactly what was written. */
  exact(): number {
    let exact = 0;
    this.written.forEach((written, user) => {
      const all = [...(this.#messages[user] as Map<string, { state: string }>).values()];
      if (this.shown(user) === written && all.every((m) => m.state === 'finished')) exact++;
    });
    return exact / this.written.length;
  }

  /**
   * How the first user who did not get exactly what was written differs: where the texts part, a
   * few characters of each from there, and the states of the user's messages.
   */
  firstInexact(): string | undefined {
    for (const [user, written] of this.written.entries()) {
      const shown = this.shown(user);
      const states = [...(this.#messages[user] as Map<string, { state: string }>).values()].map(
        (m) => m.state,
      );
      if (shown === written && states.every((state) => state === 'finished')) continue;
      let at = 0;
      while (at < shown.length && shown[at] === written[at]) at++;
      const around = (text: string) => JSON.stringify(text.slice(Math.max(0, at - 12), at + 24));
      return `user ${user}: differs at ${at} of ${written.length}; shown ${around(shown)}, written ${around(written)}; messages ${states.join(', ')}`;
    }
    return undefined;
  }

  /** Messages the cloud ended for want of a call, or that never ended at all. */
  abandoned(): number {
    let count = 0;
    for (const messages of this.#messages) {
      for (const m of messages.values()) if (m.state !== 'finished') count++;
    }
    return count;
  }

  /** Tokens written and never shown. */
  lost(): number {
    let lost = 0;
    let total = 0;
    this.#tokenEnds.forEach((ends, user) => {
      total += ends.length;
      lost += ends.length - (this.#next[user] as number);
    });
    return total === 0 ? 0 : lost / total;
  }
}

/**
 * Produces tokens for `count` sessions at `rate.perSecond` each for `rate.seconds`, the sessions
 * spread over the interval.
 */
export async function produce(
  count: number,
  rate: { seconds: number; perSecond: number },
  write: (session: number, n: number) => void,
): Promise<void> {
  const intervalMs = 1000 / rate.perSecond;
  const total = Math.round(rate.seconds * rate.perSecond);
  await Promise.all(
    Array.from(
      { length: Math.min(count, 10) },
      (_, group) =>
        new Promise<void>((resolve) => {
          setTimeout(
            () => {
              let n = 0;
              const timer = setInterval(() => {
                for (let s = group; s < count; s += 10) write(s, n);
                if (++n >= total) {
                  clearInterval(timer);
                  resolve();
                }
              }, intervalMs);
            },
            (group * intervalMs) / 10,
          );
        }),
    ),
  );
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves when every promise has settled or `ms` have passed, whichever is first. */
export const within = (promises: Promise<unknown>[], ms: number) =>
  Promise.race([Promise.allSettled(promises), sleep(ms)]);

export const ms = (v: number) =>
  Number.isNaN(v) ? 'n/a' : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${Math.round(v)} ms`;
/** A share as a percentage, with decimals only where rounding would hide a difference from 0 or 100. */
export const pct = (v: number) =>
  `${(v * 100).toFixed(v === 0 || v === 1 || (v > 0.01 && v < 0.99) ? 0 : 2)} %`;

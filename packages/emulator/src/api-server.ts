import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RateCharge } from '@imbot/core/tencent';
import type { Clock } from './clock.js';
import type { Faults } from './faults.js';
import { BodyTooLarge, readBody, sendJson, sendText, sendTooLarge } from './http.js';
import { Traffic } from './traffic.js';
import { SlidingWindow, type WindowCounters } from './window.js';

/** An answer to send: HTTP status, the cloud's own code (0 or 200 for success), and the JSON body. */
export interface Reply {
  status: number;
  errorCode: number;
  json: Record<string, unknown>;
}

/** One REST call and what the emulator did with it. */
export interface CallRecord {
  id: number;
  /** Milliseconds since the epoch at arrival. */
  time: number;
  api: string;
  /** The query string's parameters, credentials shortened to their first 12 characters. */
  query: Record<string, string>;
  body: unknown;
  /** HTTP status sent; absent when the connection was dropped or left hanging. */
  status?: number;
  errorCode?: number;
  answer?: unknown;
  /** The fault that struck, if one did. */
  fault?: string;
  /** The latency the fault settings added to this call (jitter included), when they add any. */
  latencyMs?: number;
  durationMs: number;
}

/** What a cloud's API looks like to the server: how it checks requests and how it answers. */
export interface CloudProtocol {
  /**
   * Authenticates a request and reads its body: the API it names and its body, or the refusal. An
   * API name is given with a refusal when known, for the call log.
   */
  check(
    url: URL,
    req: IncomingMessage,
    text: string,
  ): { api: string; body: Record<string, unknown> } | { reply: Reply; api?: string };
  /**
   * The budgets a call draws on (core's table of the cloud's documented limits, or the emulator's
   * `rateLimit` override): each must have room for its units, or the call is refused.
   */
  charges(api: string, body: Record<string, unknown>): readonly RateCharge[];
  /** The answer when a frequency limit is reached: `charge` is the budget that had no room. */
  frequencyLimited(api: string, charge: RateCharge): Reply;
  /** The cloud's own internal error code, worth retrying: what an `internal-error` fault answers. */
  readonly internalErrorCode: number;
  /** The answer for a fault that refuses a call with a cloud code. */
  failure(code: number, info: string): Reply;
  /** Carries out a call. */
  handle(api: string, body: Record<string, unknown>): Reply;
}

/** Request bodies larger than this are refused with HTTP 413. */
const MAX_BODY_BYTES = 1024 * 1024;
const MAX_CALL_RECORDS = 10_000;
/** Past this many budgets (one per group, channel or stream seen), idle ones are forgotten. */
const MAX_WINDOWS = 10_000;
const CREDENTIALS = new Set(['usersig', 'signature', 'Signature']);
/** Bodies longer than this are kept in the call log as their length and first 256 characters. */
const LOGGED_BODY_CHARS = 16 * 1024;
/** How much of a body a record keeps when it keeps no more. */
const PREVIEW_CHARS = 256;

/** A body as the call log keeps it: whole when small, else its size and a preview. */
function loggedBody(text: string, parsed?: unknown): unknown {
  if (text.length > LOGGED_BODY_CHARS) return omitted(text);
  if (parsed !== undefined) return parsed;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A body the cloud refused: its size and the start of it only, however small it was. */
function refusedBody(text: string): unknown {
  return text.length > PREVIEW_CHARS ? omitted(text) : text;
}

function omitted(text: string): { omitted: string; preview: string } {
  // A slice of a string keeps the whole string alive in V8: the preview is copied out of it.
  const preview = Buffer.from(text.slice(0, PREVIEW_CHARS), 'utf8').toString('utf8');
  return { omitted: `${text.length} characters`, preview };
}

/** The credentials a request carried, in the query and the headers, as written and URL-encoded. */
function credentialsOf(url: URL, req: IncomingMessage): string[] {
  const found: string[] = [];
  for (const key of CREDENTIALS) {
    const value = url.searchParams.get(key) ?? req.headers[key.toLowerCase()];
    if (typeof value === 'string' && value.length >= 8) found.push(value, encodeURIComponent(value));
  }
  return found;
}

/** `json` with every credential the request carried shortened, as the log shows the query. */
function redacted(json: unknown, secrets: string[]): unknown {
  let text = JSON.stringify(json);
  const before = text;
  for (const secret of secrets) text = text.split(secret).join(`${secret.slice(0, 12)}…`);
  return text === before ? json : JSON.parse(text);
}

/**
 * Serves one cloud's REST API: reads the body (413 past 1 MB), lets the protocol check it, applies the
 * frequency limits (every budget the call draws on, per API, per group, per recipient, measured over
 * arrival times in sliding windows), applies faults, and records every call with its answer.
 */
export class ApiServer {
  readonly #protocol: CloudProtocol;
  readonly #faults: Faults;
  readonly #windows = new Map<string, SlidingWindow>();
  readonly #calls: CallRecord[] = [];
  readonly #hanging = new Set<ServerResponse>();
  /** The last minute's calls per second, for the console's chart. */
  readonly traffic: Traffic;
  #nextId = 1;

  readonly #clock: Clock;

  /** `limitPerSecond` is the console chart's budget line: what most APIs may make in a second. */
  constructor(protocol: CloudProtocol, faults: Faults, limitPerSecond: number, clock: Clock) {
    this.#clock = clock;
    this.#protocol = protocol;
    this.#faults = faults;
    this.traffic = new Traffic(limitPerSecond);
  }

  /** Every call so far (the latest 10 000), oldest first. */
  calls(): CallRecord[] {
    return [...this.#calls];
  }

  /**
   * Per budget (an API, or a row and its target such as `group-messages:g1`): units accepted, units
   * refused by the frequency limit, and the busiest window seen.
   */
  rate(): Record<string, WindowCounters> {
    return Object.fromEntries([...this.#windows].map(([api, window]) => [api, { ...window.counters }]));
  }

  reset(): void {
    this.#calls.length = 0;
    this.#windows.clear();
    this.traffic.clear();
  }

  /** Drops the connections of calls left hanging by a `hang` fault. */
  close(): void {
    for (const res of this.#hanging) res.destroy();
    this.#hanging.clear();
  }

  /** Answers one request. */
  async serve(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const started = this.#clock.elapsed();
    const query = Object.fromEntries(url.searchParams);
    for (const key of Object.keys(query))
      if (CREDENTIALS.has(key)) query[key] = `${query[key]?.slice(0, 12)}…`;
    const record: CallRecord = {
      id: this.#nextId++,
      time: this.#clock.now(),
      api: url.pathname,
      query,
      body: undefined,
      durationMs: 0,
    };
    this.#calls.push(record);
    if (this.#calls.length > MAX_CALL_RECORDS) this.#calls.shift();
    const done = (status?: number) => {
      record.durationMs = this.#clock.elapsed() - started;
      if (status !== undefined) record.status = status;
    };
    const reply = (answer: Reply) => {
      done(answer.status);
      record.errorCode = answer.errorCode;
      // A cloud that quotes the request back would put a credential in the log.
      record.answer = redacted(answer.json, credentialsOf(url, req));
      sendJson(res, answer.status, answer.json);
    };
    let text: string;
    try {
      text = await readBody(req, MAX_BODY_BYTES);
    } catch (error) {
      if (!(error instanceof BodyTooLarge)) throw error;
      done(413);
      return sendTooLarge(res, error);
    }
    const checked = this.#protocol.check(url, req, text);
    if ('reply' in checked) {
      record.body = refusedBody(text);
      if (checked.api) record.api = checked.api;
      return reply(checked.reply);
    }
    const api = checked.api;
    record.api = api;
    record.body = loggedBody(text, checked.body);
    const latency = this.#faults.latency();
    if (latency.beforeMs + latency.afterMs > 0) record.latencyMs = latency.beforeMs + latency.afterMs;
    const pause = (ms: number) => (ms > 0 ? waitOut(ms, this.#clock) : undefined);
    await pause(latency.beforeMs);
    // Counted as it is applied: the windows see the calls in the order they reach the cloud.
    const refused = this.#admit(this.#protocol.charges(api, checked.body), this.#clock.elapsed());
    this.traffic.call(api, refused === undefined, this.#clock.now());
    if (refused) {
      await pause(latency.afterMs);
      return reply(this.#protocol.frequencyLimited(api, refused));
    }
    const fault = this.#faults.plan(api).fault;
    const refusal =
      fault === 'internal-error'
        ? { errorCode: this.#protocol.internalErrorCode, errorInfo: undefined }
        : typeof fault === 'object'
          ? fault
          : undefined;
    if (fault !== undefined) record.fault = refusal ? `error ${refusal.errorCode}` : (fault as string);
    switch (fault) {
      case 'reset-before':
        done();
        res.destroy();
        return;
      case 'hang':
        this.#hanging.add(res);
        res.on('close', () => this.#hanging.delete(res));
        return;
    }
    const answer =
      refusal || fault === 'http-502' || fault === 'malformed'
        ? undefined
        : this.#protocol.handle(api, checked.body);
    await pause(latency.afterMs);
    if (refusal) {
      const info = (refusal.errorInfo ?? 'internal error, please retry')
        .replaceAll('{query}', url.search.slice(1))
        .replaceAll('{headers}', JSON.stringify(req.headers));
      return reply(this.#protocol.failure(refusal.errorCode, info));
    }
    if (fault === 'http-502') {
      done(502);
      return sendText(res, 502, '502 Bad Gateway');
    }
    if (fault === 'malformed') {
      done(200);
      return sendText(res, 200, '<html><body>upstream error</body></html>', 'text/html');
    }
    if (fault === 'reset-after') {
      record.errorCode = answer?.errorCode;
      done();
      res.destroy();
      return;
    }
    reply(answer as Reply);
  }

  /**
   * Takes every charge's units at `now` if all of them fit, and nothing otherwise (a refused call
   * spends no budget); answers the first charge that had no room.
   */
  #admit(charges: readonly RateCharge[], now: number): RateCharge | undefined {
    const windows = charges.map((charge) => this.#window(charge, now));
    const full = charges.findIndex((charge, i) => !windows[i]?.fits(now, charge.units));
    if (full >= 0) {
      const charge = charges[full] as RateCharge;
      windows[full]?.refuse(charge.units);
      return charge;
    }
    charges.forEach((charge, i) => {
      windows[i]?.take(now, charge.units);
    });
    return undefined;
  }

  #window(charge: RateCharge, now: number): SlidingWindow {
    let window = this.#windows.get(charge.key);
    if (!window) {
      if (this.#windows.size >= MAX_WINDOWS) {
        for (const [key, idle] of this.#windows) if (idle.idle(now)) this.#windows.delete(key);
      }
      window = new SlidingWindow(charge.limit, charge.windowMs);
      this.#windows.set(charge.key, window);
    }
    return window;
  }
}

/**
 * Waits `ms` by the clock's `elapsed`: a timer may fire early by as much as the event loop's
 * current turn has taken (its time is read at the turn's start), so the rest is waited again and a
 * call's injected latency is never cut short on a busy machine.
 */
async function waitOut(ms: number, clock: Clock): Promise<void> {
  const until = clock.elapsed() + ms;
  let before = Number.NEGATIVE_INFINITY;
  // A clock a test holds still does not move: one timer's wait is then all there is.
  for (let left = ms; left > 0 && clock.elapsed() !== before; left = until - clock.elapsed()) {
    before = clock.elapsed();
    await new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.ceil(left))));
  }
}

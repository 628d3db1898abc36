import { ImbotError, outcomeUnknown } from '../errors.js';
import type { TurnPermit } from '../limits/turn-permit.js';
import type { EndReason, MessageState, ReadBack, StreamTransport } from './transport.js';

/**
 * An open streamed message as a journal keeps it: enough for any process to make its closing call,
 * and no text.
 */
export interface JournalEntry {
  /** Which app's client can close it: `tencent:<SDKAppID>` or `rongcloud:<App Key>`. */
  cloud: string;
  /** The stream's target, as given to `openStream`. */
  target: Record<string, string>;
  state: MessageState;
}

/** Makes the closing call of an orphaned message, ending it with `suffix`. */
export type OrphanCloser = (entry: JournalEntry, suffix: string) => Promise<void>;

/**
 * Where clients record the messages they have open, so that a message whose process died is closed
 * by another (`RedisStreamJournal` in `@imbot/redis`). Passed to a client as `journal`.
 */
export interface StreamJournal {
  /** `id`'s message is open (or moved on); it is this process's until it forgets it or dies. */
  record(id: string, entry: JournalEntry): void;
  /** `id`'s message is closed. */
  forget(id: string): void;
  /** `id`'s message was given up open by its session: close it as an orphan. */
  abandon(id: string): void;
  /** The client that closes `cloud`'s orphaned messages. */
  attach(cloud: string, close: OrphanCloser): void;
}

/**
 * A transport that tells a journal about its open message after every call: recorded while open,
 * forgotten once the closing call went through, abandoned when the session moves on without it.
 */
export class JournaledTransport implements StreamTransport {
  readonly rateKey: string;
  readonly rateFields?: Readonly<Record<string, unknown>>;
  readonly maxMessageBytes: number;
  readonly maxPlainBytes: number;
  readonly minCallIntervalMs: number;
  readonly emptyFinalChunk: boolean;
  readonly idleLimitMs: number;
  readonly markdown: boolean;
  readonly readBack?: (signal?: AbortSignal) => Promise<ReadBack | undefined>;
  #id: string | undefined;
  /** Whether `#id` records a first call on its way (no message id yet) rather than an open message. */
  #provisional = false;
  /** Whether the call in flight (or of unknown outcome) closes its message. */
  #final = false;

  constructor(
    private readonly inner: StreamTransport,
    private readonly journal: StreamJournal,
    private readonly where: { cloud: string; target: Record<string, string> },
  ) {
    this.rateKey = inner.rateKey;
    if (inner.rateFields) this.rateFields = inner.rateFields;
    this.maxMessageBytes = inner.maxMessageBytes;
    this.maxPlainBytes = inner.maxPlainBytes;
    this.minCallIntervalMs = inner.minCallIntervalMs;
    this.emptyFinalChunk = inner.emptyFinalChunk;
    this.idleLimitMs = inner.idleLimitMs;
    this.markdown = inner.markdown ?? false;
    if (inner.readBack) {
      const readBack = inner.readBack.bind(inner);
      this.readBack = async (signal) => {
        const verdict = await readBack(signal);
        if (verdict?.applied) this.#applied();
        else if (verdict && this.#provisional) this.#drop();
        return verdict;
      };
    }
  }

  async send(
    chunk: string,
    final: boolean,
    end?: EndReason,
    permit?: TurnPermit,
  ): Promise<{ messageId: string }> {
    this.#final = final;
    // A first call is recorded before it is made: if this process dies before its answer, another
    // finds the message it opened (by the cloud's history) and closes it.
    const opening = this.#id === undefined ? this.inner.opening?.(chunk) : undefined;
    if (opening) this.#record(opening, true);
    let sent: { messageId: string };
    try {
      sent = await this.inner.send(chunk, final, end, permit);
    } catch (error) {
      // Certainly not applied: nothing was opened. Unknown: the record stays for the read-back.
      if (this.#provisional && !outcomeUnknown(error)) this.#drop();
      throw error;
    }
    this.#applied();
    return sent;
  }

  /** Forgets the record of a first call that opened nothing. */
  #drop(): void {
    if (this.#id) this.journal.forget(this.#id);
    this.#id = undefined;
    this.#provisional = false;
  }

  /** A call went through: a closed message is forgotten, an open one recorded as it stands. */
  #applied(): void {
    if (this.#final) {
      this.#drop();
      return;
    }
    const state = this.inner.snapshot();
    if (state) this.#record(state, false);
  }

  /** Records the open message (or the first call on its way) as it stands now. */
  #record(state: MessageState, provisional: boolean): void {
    // A message key is unique within its conversation only: the target is part of the id.
    const key = provisional ? `opening:${state.random ?? state.opening?.digest}` : state.messageId;
    const id = `${this.where.cloud}/${Object.values(this.where.target).join('/')}/${key}`;
    if (this.#id && this.#id !== id) this.journal.forget(this.#id);
    this.#id = id;
    this.#provisional = provisional;
    this.journal.record(id, { ...this.where, state });
  }

  next(): void {
    if (this.#id) this.journal.abandon(this.#id);
    this.#id = undefined;
    this.#provisional = false;
    this.inner.next();
  }

  sendPlain(text: string): Promise<void> {
    return this.inner.sendPlain(text);
  }

  snapshot(): MessageState | undefined {
    return this.inner.snapshot();
  }

  resume(state: MessageState): void {
    this.inner.resume(state);
  }
}

/**
 * Joins a client to its `journal` (if it has one) under the name `cloud`: orphans of that name are
 * closed through `transportFor`'s transports (within the client's budget, as every call is), and
 * the function returned makes the client's transports record their messages (without a journal it
 * returns them as they are).
 */
export function joinJournal<Target extends object>(
  journal: StreamJournal | undefined,
  cloud: string,
  transportFor: (target: Target) => StreamTransport,
): (transport: StreamTransport, target: Target) => StreamTransport {
  if (!journal) return (transport) => transport;
  journal.attach(cloud, async (entry, suffix) => {
    const transport = transportFor(entry.target as Target);
    transport.resume(entry.state);
    if (entry.state.opening) {
      // A first call on its way when its process died: close the message it opened, if it did.
      const verdict = await transport.readBack?.();
      if (!verdict)
        throw new ImbotError('STREAM_FAILED', 'the cloud cannot tell yet whether the message opened');
      if (!verdict.applied) return;
    }
    await transport.send(suffix, true);
  });
  return (transport, target) =>
    new JournaledTransport(transport, journal, { cloud, target: target as Record<string, string> });
}

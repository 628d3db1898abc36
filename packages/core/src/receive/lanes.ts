import { type ImbotError, InterruptedError } from '../errors.js';
import type { InboundMessage } from '../platform.js';
import { Queue } from '../queue.js';

/**
 * What happens when a user writes while the bot is still answering them:
 * - `queue`: their messages are handled one after another, in order (the default: answers never
 *   interleave and none is lost);
 * - `interrupt`: the answer in progress is interrupted (its `signal` aborts and its open streams are
 *   closed), then the new message is handled;
 * - `concurrent`: every message is handled at once.
 */
export type Concurrency = 'queue' | 'interrupt' | 'concurrent';

/** One message's handling: started, interruptible, and settled once its reply streams are finished. */
export interface Run {
  readonly message: InboundMessage;
  /** Aborts the handling: interrupts its reply. */
  interrupt(reason: ImbotError): void;
  /** Settles when the handler has returned and its streams have finished. */
  readonly done: Promise<void>;
}

/** A message waiting for its turn: `start` runs it, `drop` settles it when it never will run. */
export interface Turn {
  start(): Run;
  drop(): void;
}

interface Lane {
  current: Run | undefined;
  waiting: Queue<{ message: InboundMessage; turn: Turn }>;
}

/**
 * The conversations' lanes: who a message waits behind, per conversation (a bot and one user, or a
 * bot and one user in a group), under the `Concurrency` policy. Holds no work itself: a turn's
 * `start` makes the run when it comes.
 */
export class Lanes {
  readonly #policy: Concurrency;
  readonly #lanes = new Map<string, Lane>();
  readonly #running = new Set<Run>();
  #waitingCount = 0;
  #onIdle: (() => void) | undefined;

  constructor(policy: Concurrency) {
    this.#policy = policy;
  }

  /** Messages started and not yet done, and messages waiting for their turn. */
  get pending(): number {
    return this.#running.size + this.#waitingCount;
  }

  /** Starts `message`'s turn when it comes under the policy. */
  add(message: InboundMessage, turn: Turn): void {
    if (this.#policy === 'concurrent') {
      this.#track(turn.start());
      return;
    }
    const key = laneKey(message);
    let lane = this.#lanes.get(key);
    if (!lane) {
      lane = { current: undefined, waiting: new Queue() };
      this.#lanes.set(key, lane);
    }
    if (this.#policy === 'interrupt')
      lane.current?.interrupt(
        new InterruptedError('a newer message from the same user interrupted this answer'),
      );
    lane.waiting.push({ message, turn });
    this.#waitingCount++;
    if (!lane.current) this.#next(key, lane);
  }

  /** Interrupts every run, and drops every message still waiting, telling `dropped` which. */
  stop(reason: ImbotError, dropped: (message: InboundMessage) => void): void {
    for (const lane of this.#lanes.values()) {
      for (let next = lane.waiting.shift(); next; next = lane.waiting.shift()) {
        this.#waitingCount--;
        next.turn.drop();
        dropped(next.message);
      }
    }
    for (const run of this.#running) run.interrupt(reason);
  }

  /** Resolves once nothing runs or waits. */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const previous = this.#onIdle;
      this.#onIdle = () => {
        previous?.();
        resolve();
      };
    });
  }

  /** Every run in progress. */
  running(): Iterable<Run> {
    return this.#running;
  }

  #next(key: string, lane: Lane): void {
    const next = lane.waiting.shift();
    if (!next) {
      lane.current = undefined;
      this.#lanes.delete(key);
      return;
    }
    this.#waitingCount--;
    const run = next.turn.start();
    lane.current = run;
    this.#track(run, () => this.#next(key, lane));
  }

  #track(run: Run, then?: () => void): void {
    this.#running.add(run);
    void run.done.then(() => {
      this.#running.delete(run);
      then?.();
      if (this.pending === 0 && this.#onIdle) {
        const idle = this.#onIdle;
        this.#onIdle = undefined;
        idle();
      }
    });
  }
}

/** The lane of a message: its bot, and its user within the one-to-one chat or the group. */
function laneKey(message: InboundMessage): string {
  const where = message.conversation.type === 'group' ? `g\u0000${message.conversation.groupId}` : 'c';
  return `${message.botId}\u0000${where}\u0000${message.from}`;
}

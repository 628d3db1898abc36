import type { StreamSourceError } from '../errors.js';
import type { StreamFinish } from './finish.js';
import { type AnswerPart, meaningOf } from './parts.js';
import { type AnswerSource, readText } from './source.js';

/** What piping a source into a session uses of the session's own face. */
export interface PipeSink {
  /** Whether the session was ended or aborted: the source is read no further. */
  readonly closed: boolean;
  readonly done: Promise<StreamFinish>;
  /** Adds text; false once the session holds its high-water mark. */
  write(text: string): boolean;
  end(): Promise<StreamFinish>;
}

/** What piping needs of the session beyond its face. */
export interface PipeHooks {
  /** Resolves when the session can take more text (or has finished). */
  drain(): Promise<void>;
  /** A part that is not text runs (a tool call, a task), named by `name` if it has one. */
  progress(part: AnswerPart, name: string | undefined): void;
  /** The source failed: closes the message with what was written; the error to report. */
  sourceFailed(cause: unknown): Promise<StreamSourceError>;
}

/**
 * Writes everything `source` yields into `sink`, waiting for its drain whenever it is full, then
 * ends it; a failing source (or an `error` part) closes it as failed and rejects with the
 * `StreamSourceError`.
 */
export async function pipeInto(
  sink: PipeSink,
  hooks: PipeHooks,
  source: AnswerSource,
): Promise<StreamFinish> {
  try {
    for await (const item of readText<string | AnswerPart>(source)) {
      if (sink.closed) break;
      const meaning = meaningOf(item);
      if (meaning.kind === 'text') {
        if (!sink.write(meaning.text)) await hooks.drain();
      } else if (meaning.kind === 'progress') hooks.progress(meaning.part, meaning.name);
      else if (meaning.kind === 'error') throw meaning.error;
    }
  } catch (cause) {
    if (sink.closed) return sink.done;
    throw await hooks.sourceFailed(cause);
  }
  return sink.end();
}

/**
 * `sink` as a `WritableStream<string>` whose queue and writes wait for its drain, so that `pipeTo`
 * slows the source to what the session delivers; a source that fails aborts it, which closes the
 * session as failed.
 */
export function writableInto(
  sink: PipeSink,
  hooks: PipeHooks,
  highWaterMark: number,
): WritableStream<string> {
  return new WritableStream<string>(
    {
      write: (text) => (sink.write(text) ? undefined : hooks.drain()),
      close: async () => {
        await sink.end();
      },
      abort: async (reason) => {
        if (!sink.closed) await hooks.sourceFailed(reason);
      },
    },
    { highWaterMark, size: (text) => text.length },
  );
}

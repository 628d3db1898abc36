import type { AnswerPart } from './parts.js';

/** Text produced over time: an async iterable (a generator, an AI SDK `textStream`) or a web `ReadableStream`. */
export type TextSource = AsyncIterable<string> | ReadableStream<string>;

/**
 * An answer produced over time with what runs meanwhile: text, or an AI SDK `fullStream`, or the
 * Chat SDK's structured chunks (see `AnswerPart`), as an async iterable or a web `ReadableStream`.
 */
export type AnswerSource =
  | TextSource
  | AsyncIterable<string | AnswerPart>
  | ReadableStream<string | AnswerPart>;

/**
 * Reads a `TextSource` chunk by chunk, whichever kind it is, releasing a stream's reader when the
 * caller stops early or the source fails.
 */
export async function* readText<T = string>(source: AsyncIterable<T> | ReadableStream<T>): AsyncGenerator<T> {
  if (!('getReader' in source)) {
    yield* source;
    return;
  }
  const reader = source.getReader();
  try {
    for (let next = await reader.read(); !next.done; next = await reader.read()) yield next.value;
  } finally {
    reader.releaseLock();
  }
}

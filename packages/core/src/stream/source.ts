/** Text produced over time: an async iterable (a generator, an AI SDK `textStream`) or a web `ReadableStream`. */
export type TextSource = AsyncIterable<string> | ReadableStream<string>;

/**
 * Reads a `TextSource` chunk by chunk, whichever kind it is, releasing a stream's reader when the
 * caller stops early or the source fails.
 */
export async function* readText(source: TextSource): AsyncGenerator<string> {
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

/**
 * Where the bot's answers come from: an OpenAI-compatible chat endpoint when `OPENAI_BASE_URL` and
 * `OPENAI_API_KEY` are set (any local server that speaks that API works), otherwise a built-in
 * generator that needs no network and streams at a reading pace.
 */

/** Words per second of the offline generator: quick reading, so a demo answer takes a few seconds. */
const WORDS_PER_SECOND = 12;

/** The offline generator's whole answer to `question`. */
export function offlineAnswer(question: string): string {
  const asked = question.trim() || 'nothing at all';
  return (
    `You said "${asked}". I am the imbot demo bot, answering without any model: ` +
    'every word you see arrives through the same stream session a language model would use, ' +
    'so this message grows on your screen until it is finished. ' +
    'Set OPENAI_BASE_URL and OPENAI_API_KEY to let a real model answer instead.'
  );
}

async function* offline(question: string, signal?: AbortSignal): AsyncGenerator<string> {
  for (const word of offlineAnswer(question).split(/(?<= )/)) {
    if (signal?.aborted) return;
    yield word;
    await new Promise((resolve) => setTimeout(resolve, 1000 / WORDS_PER_SECOND));
  }
}

/** Reads an OpenAI-compatible streamed chat completion (server-sent events) as text deltas. */
async function* openAi(question: string, signal?: AbortSignal): AsyncGenerator<string> {
  const base = (process.env.OPENAI_BASE_URL as string).replace(/\/+$/, '');
  const response = await fetch(`${base}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${process.env.OPENAI_API_KEY}` },
    body: JSON.stringify({
      model: process.env.OPENAI_MODEL ?? 'gpt-4o-mini',
      stream: true,
      messages: [
        { role: 'system', content: 'You are a helpful assistant in a chat app. Answer briefly.' },
        { role: 'user', content: question },
      ],
    }),
    ...(signal ? { signal } : {}),
  }).catch((error: Error) => {
    const reason = (error.cause as Error | undefined)?.message ?? error.message;
    throw new Error(`could not reach the model at ${base}: ${reason}`);
  });
  if (!response.ok || !response.body) throw new Error(`the model answered HTTP ${response.status}`);
  let buffer = '';
  for await (const piece of response.body.pipeThrough(new TextDecoderStream())) {
    buffer += piece;
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const line of lines) {
      const data = line.startsWith('data:') ? line.slice(5).trim() : '';
      if (data === '' || data === '[DONE]') continue;
      const delta = (JSON.parse(data) as { choices?: { delta?: { content?: string } }[] }).choices?.[0]?.delta
        ?.content;
      if (delta) yield delta;
    }
  }
}

/** The answer to `question`, as a stream of text. */
export function answer(question: string, signal?: AbortSignal): AsyncIterable<string> {
  return process.env.OPENAI_BASE_URL && process.env.OPENAI_API_KEY
    ? openAi(question, signal)
    : offline(question, signal);
}

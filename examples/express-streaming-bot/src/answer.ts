/**
 * Where the bot's answers come from: an OpenAI-compatible chat endpoint when `OPENAI_BASE_URL` and
 * `OPENAI_API_KEY` are set (any local server that speaks that API works), otherwise a built-in
 * generator that needs no network and streams at a reading pace.
 */

/** Words per second of the offline generator: quick reading, so a demo answer takes a few seconds. */
const WORDS_PER_SECOND = 12;

/** What the menu's buttons ask, and the offline generator's answers to them. */
export const MENU_ANSWERS: Readonly<Record<string, string>> = {
  'How does streaming work?':
    'Streaming works like this: the bot writes its answer word by word into a stream session, as a ' +
    "language model's tokens arrive. imbot gathers what has come and sends it in chunks through the " +
    "cloud's own streaming API, so this one message grows on your screen until it is finished. Every " +
    "conversation shares the app's call budget fairly: under load a call carries more words, never " +
    'more calls. When a call fails and its answer is lost, imbot reads back what the cloud holds and ' +
    'carries on, so you see every word once.',
  'How do bots work in groups?':
    'In a group, a bot answers when someone @-mentions it: the cloud calls the app back only for the ' +
    'robots that are mentioned and are members of the group. The bot streams its answer into the group ' +
    'and mentions whoever asked, so they are told. Try it here: pick a group on the left, mention ' +
    '@RBT#demo and write. A message that mentions no bot, or one outside the group, reaches none.',
  'What is imbot?':
    'imbot runs chatbot accounts on Tencent Cloud Chat and RongCloud and plugs them into the bot ' +
    'frameworks you already use: Express, the Bot Framework and the Agents SDK. It streams answers ' +
    'natively, fairly across thousands of conversations, and this emulator lets you try all of it ' +
    'offline. Start from examples/starter: npm run starter -- my-bot.',
};

/** The offline generator's whole answer to `question`. */
export function offlineAnswer(question: string): string {
  const known = MENU_ANSWERS[question.trim()];
  if (known) return known;
  const asked = question.trim() || 'nothing at all';
  return (
    `You said "${asked}". I am the imbot demo bot, answering without any model: ` +
    'every word you see arrives through the same stream session a language model would use, ' +
    'so this message grows on your screen until it is finished. ' +
    'Set OPENAI_BASE_URL and OPENAI_API_KEY to let a real model answer instead.'
  );
}

/** How long the offline generator "thinks" before its first word, as a model does: the user sees the bot typing. */
const THINKING_MS = 800;

async function* offline(question: string, signal?: AbortSignal): AsyncGenerator<string> {
  await new Promise((resolve) => setTimeout(resolve, THINKING_MS));
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

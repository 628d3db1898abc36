/**
 * Where the bot's answers come from: a model behind an OpenAI-compatible endpoint when
 * `OPENAI_BASE_URL` and `OPENAI_API_KEY` are set (any local server that speaks that API works),
 * through the AI SDK's `streamText` with the conversation so far; otherwise a stand-in that needs no
 * network, answers from the same conversation and streams at a reading pace.
 */
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import type { ModelMessage, UserModelMessage } from '@imbot/core';
import { streamText } from 'ai';

/** How many messages of the conversation the model is given, the current one included. */
export const HISTORY_LIMIT = 20;

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

/** The text of a user's model message, and the pictures and files it carries. */
function partsOf(message: UserModelMessage): { text: string; media: string[] } {
  if (typeof message.content === 'string') return { text: message.content, media: [] };
  let text = '';
  const media: string[] = [];
  for (const part of message.content) {
    if (part.type === 'text') text += part.text;
    else if (part.type === 'image') media.push(`a picture (${part.image})`);
    else media.push(`a file${part.filename ? ` "${part.filename}"` : ''} (${part.data})`);
  }
  return { text, media };
}

/**
 * The stand-in's whole answer to the last message of `history`: the menu's answers, what the user
 * said before when asked ("what did I just say?"), what they sent when it is a picture or a file,
 * and otherwise a note on how it answers.
 */
export function offlineAnswer(history: readonly ModelMessage[]): string {
  // In a group each user message starts with its sender (`alice: …`): the stand-in answers the words.
  const users = history
    .filter((m): m is UserModelMessage => m.role === 'user')
    .map(partsOf)
    .map(({ text, media }) => ({ text: text.replace(/^[^\s:]+: /, ''), media }));
  const { text, media } = users.at(-1) ?? { text: '', media: [] };
  const question = text.trim();
  const known = MENU_ANSWERS[question];
  if (known) return known;
  if (media.length > 0)
    return `You sent ${media.join(' and ')}. A model would see it as it is; I only name it.`;
  if (/\b(what|which)\b.*\b(i|me)\b.*\b(said|say|wrote|write|asked|ask)\b/i.test(question)) {
    const before = users.at(-2);
    return before
      ? `You just said "${before.text.trim() || before.media.join(' and ')}". I read it from the conversation's history, as a model would.`
      : 'This is the first thing you said to me, so there is nothing before it.';
  }
  return (
    `You said "${question || 'nothing at all'}". I am the imbot demo bot, answering without any model: ` +
    'every word you see arrives through the same stream session a language model would use, ' +
    'so this message grows on your screen until it is finished. ' +
    'Ask "what did I just say?" and I answer from the history a model would get. ' +
    'Set OPENAI_BASE_URL and OPENAI_API_KEY to let a real model answer instead.'
  );
}

/** How long the stand-in "thinks" before its first word, as a model does: the user sees the bot typing. */
const THINKING_MS = 800;

async function* offline(history: readonly ModelMessage[], signal?: AbortSignal): AsyncGenerator<string> {
  await new Promise((resolve) => setTimeout(resolve, THINKING_MS));
  for (const word of offlineAnswer(history).split(/(?<= )/)) {
    if (signal?.aborted) return;
    yield word;
    await new Promise((resolve) => setTimeout(resolve, 1000 / WORDS_PER_SECOND));
  }
}

/**
 * The model's answer through the AI SDK: its full stream, whose parts a stream session understands
 * (text, tool calls for the typing status). A failure ends the answer as failed, saying where the
 * model could not be reached or what it answered.
 */
async function* model(history: ModelMessage[], signal?: AbortSignal): AsyncGenerator<unknown> {
  const base = (process.env.OPENAI_BASE_URL as string).replace(/\/+$/, '');
  const provider = createOpenAICompatible({
    name: 'openai-compatible',
    baseURL: base,
    apiKey: process.env.OPENAI_API_KEY,
  });
  const { fullStream } = streamText({
    model: provider.chatModel(process.env.OPENAI_MODEL ?? 'gpt-4o-mini'),
    system: 'You are a helpful assistant in a chat app. Answer briefly.',
    messages: history,
    maxRetries: 1,
    ...(signal ? { abortSignal: signal } : {}),
  });
  for await (const part of fullStream) {
    if (part.type !== 'error') {
      yield part;
      continue;
    }
    const error = part.error as { statusCode?: number; message?: string; cause?: { message?: string } };
    throw new Error(
      error.statusCode === undefined
        ? `could not reach the model at ${base}: ${error.cause?.message ?? error.message}`
        : `the model answered HTTP ${error.statusCode}`,
    );
  }
}

/** The answer to the last message of `history` (the conversation, oldest first), as a stream. */
export function answer(history: ModelMessage[], signal?: AbortSignal): AsyncIterable<unknown> {
  return process.env.OPENAI_BASE_URL && process.env.OPENAI_API_KEY
    ? model(history, signal)
    : offline(history, signal);
}

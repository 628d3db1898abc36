import { streamText } from '@imbot/agents-adapter';
import { AgentApplication, MemoryStorage, type TurnState } from '@microsoft/agents-hosting';

/** A stand-in for a language model: the answer, a word at a time. */
async function* model(question: string): AsyncGenerator<string> {
  const answer = `You asked "${question}". This answer is streamed by an AgentApplication, word by word.`;
  for (const word of answer.split(/(?<= )/)) {
    yield word;
    await new Promise((resolve) => setTimeout(resolve, 40));
  }
}

/** The agent: `/help` has its own route; every other message gets a streamed answer. */
export function createAgent(): AgentApplication<TurnState> {
  const app = new AgentApplication<TurnState>({ storage: new MemoryStorage() });
  app.onMessage('/help', async (context) => {
    await context.sendActivity('Ask me anything: the answer streams in as it is written.');
  });
  app.onActivity('message', async (context) => {
    await streamText(context, model(context.activity.text ?? ''));
  });
  return app;
}

import { streamText } from '@imbot/botframework-adapter';
import { ActivityHandler, type ConversationState } from 'botbuilder';
import { DialogSet, DialogTurnStatus, TextPrompt, WaterfallDialog } from 'botbuilder-dialogs';

/** Words at a reading pace, the way a language model's answer arrives. */
async function* answerFor(name: string): AsyncGenerator<string> {
  const answer =
    `Nice to meet you, ${name}. This answer reaches you the way a language model writes: ` +
    'a few words at a time, in one message that grows until it is finished.';
  for (const word of answer.split(/(?<= )/)) {
    yield word;
    await new Promise((resolve) => setTimeout(resolve, 40));
  }
}

/**
 * An ordinary BotBuilder bot: an ActivityHandler running a waterfall dialog that asks the user's
 * name, then streams its answer. Nothing in it knows which cloud it runs on.
 */
export class AssistantBot extends ActivityHandler {
  constructor(conversationState: ConversationState) {
    super();
    const dialogs = new DialogSet(conversationState.createProperty('dialogState'));
    dialogs.add(new TextPrompt('name'));
    dialogs.add(
      new WaterfallDialog('intro', [
        async (step) => step.prompt('name', 'Hello! What is your name?'),
        async (step) => {
          await streamText(step.context, answerFor(String(step.result).trim()), { intervalMs: 200 });
          return step.endDialog();
        },
      ]),
    );
    this.onMessage(async (context, next) => {
      const dialog = await dialogs.createContext(context);
      const result = await dialog.continueDialog();
      if (result.status === DialogTurnStatus.empty) await dialog.beginDialog('intro');
      await next();
    });
    this.onDialog(async (context, next) => {
      await conversationState.saveChanges(context);
      await next();
    });
  }
}

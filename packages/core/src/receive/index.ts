/**
 * `@imbot/core/receive`: the receiving side's parts, for those who write an entry into the pipeline
 * (a framework the packages do not cover) or middleware of their own: the middleware the receivers
 * compose by default, the answer a middleware works on, the web-standard and `node:http` entries,
 * and bot registration at start-up. A bot app needs none of it: `imbot()`, `createFetchHandler()`
 * and the adapters put it together.
 */
export { ensureBotsAtStartup } from '../bots/ensure.js';
export { conversationHistory } from '../history/conversation.js';
export { assistantModelMessage, mediaTypeOf, userModelMessage } from '../history/model-messages.js';
export { readLatestMessages } from '../history/read.js';
export { TranscriptRecorder } from '../history/recorder.js';
export { readTranscript, transcriptKey, userEntry } from '../history/transcript.js';
export { ButtonSigner, openButtonValue, signButtonValue } from '../message/button-signer.js';
export { methodNotAllowed, refusalAnswer } from './answer.js';
export { AnswerRun, replyTargetOf } from './answer-run.js';
export { verifyButtonPresses } from './buttons.js';
export { receiveFetchRequest, toResponse } from './fetch.js';
export { compose } from './middleware.js';
export { writeNodeAnswer } from './node.js';
export { answerSignals } from './signals.js';
export { applyStop, DEFAULT_STOP_WORDS, stopAnswers, stopRequestOf } from './stop.js';
export { typingSignal } from './typing-signal.js';
export { greetUsers } from './welcome.js';

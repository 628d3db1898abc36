import {
  getStreamingResponse,
  type StreamingResponse,
  type StreamingResponseOptions,
} from '@imbot/core/activity';
import type { TurnContext } from '@microsoft/agents-hosting';

export {
  activityToText,
  conversationReferenceFor,
  type StreamingResponse,
  type StreamingResponseOptions,
  streamText,
} from '@imbot/core/activity';
export { ImbotAgentsAdapter, type ImbotAgentsAdapterOptions } from './adapter.js';

/**
 * The turn's streaming helper (`queueInformativeUpdate`, `queueTextChunk`, `endStream`). The Agents
 * SDK's own `context.streamingResponse` sends the final message only on channels other than Teams;
 * this one streams on these clouds. Await `endStream()` before the turn ends.
 */
export function imbotStream(context: TurnContext, options?: StreamingResponseOptions): StreamingResponse {
  return getStreamingResponse(context, options);
}

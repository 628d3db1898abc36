// The activity conversions and the streaming helper live in @imbot/core, shared with the Agents SDK
// adapter; they are exported here too, under the names this package has always had.
export {
  activityToText,
  attachmentToText,
  conversationIdFor,
  conversationReferenceFor,
  getStreamingResponse,
  inboundToActivity,
  type StreamInfo,
  StreamingResponse,
  type StreamingResponseOptions,
  streamInfoOf,
  streamText,
  targetOf,
} from '@imbot/core/activity';
export { ImBotAdapter, type ImBotAdapterOptions, type WebhookInput, type WebhookResult } from './adapter.js';

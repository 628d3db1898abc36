export {
  activityToText,
  attachmentToText,
  conversationIdFor,
  conversationReferenceFor,
  inboundToActivity,
  type StreamInfo,
  streamInfoOf,
  targetOf,
} from './activity.js';
export { ImBotAdapter, type ImBotAdapterOptions, type WebhookInput, type WebhookResult } from './adapter.js';
export {
  getStreamingResponse,
  StreamingResponse,
  type StreamingResponseOptions,
  streamText,
} from './streaming.js';

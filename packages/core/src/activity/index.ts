/**
 * `@imbot/core/activity`: the Bot Framework activity model both activity adapters share (the Bot
 * Framework adapter and the Agents SDK adapter): the bridge from activities to a platform, the
 * conversions, cards, and the streaming helper of a turn.
 */
export { AdapterCore, type AdapterOptions } from './adapter-core.js';
export { ActivityBridge, type TurnScope } from './bridge.js';
export { activityToMessages, attachmentToMessage, cardButtonOf } from './cards.js';
export {
  activityToText,
  attachmentToText,
  conversationIdFor,
  conversationReferenceFor,
  inboundToActivity,
  streamInfoOf,
  targetOf,
} from './convert.js';
export type {
  ActivityLike,
  AttachmentLike,
  ChannelAccountLike,
  ConversationLike,
  ConversationReferenceLike,
  EntityLike,
  StreamInfo,
} from './protocol.js';
export {
  getStreamingResponse,
  StreamingResponse,
  type StreamingResponseOptions,
  streamText,
  type TurnContextLike,
} from './streaming.js';

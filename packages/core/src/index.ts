export { AdapterCore, type AdapterOptions } from './activity/adapter-core.js';
export { ActivityBridge, type TurnScope } from './activity/bridge.js';
export { activityToMessages, attachmentToMessage, cardButtonOf } from './activity/cards.js';
export {
  activityToText,
  attachmentToText,
  conversationIdFor,
  conversationReferenceFor,
  inboundToActivity,
  streamInfoOf,
  targetOf,
} from './activity/convert.js';
export type {
  ActivityLike,
  AttachmentLike,
  ChannelAccountLike,
  ConversationLike,
  ConversationReferenceLike,
  EntityLike,
  StreamInfo,
} from './activity/protocol.js';
export {
  getStreamingResponse,
  StreamingResponse,
  type StreamingResponseOptions,
  streamText,
  type TurnContextLike,
} from './activity/streaming.js';
export {
  type EnsureBotsOptions,
  type EnsureBotsReport,
  ensureBots,
  validateBotSpecs,
} from './bots/ensure.js';
export {
  ApiError,
  type ApiErrorDetails,
  ImbotError,
  isTransient,
  NetworkError,
  NotHandledError,
  NotSupportedError,
  outcomeUnknown,
  RongCloudApiError,
  StreamClosedError,
  StreamSourceError,
  TencentApiError,
  TimeoutError,
  UserSigError,
  type UserSigProblem,
  ValidationError,
  type WebhookProblem,
  WebhookVerificationError,
} from './errors.js';
export {
  backoffDelay,
  defaultRetryPolicy,
  type RetryDecision,
  type RetryMode,
  type RetryPolicy,
  retryDecision,
  withRetry,
} from './http/retry.js';
export {
  InMemoryRateLimiter,
  type InMemoryRateLimiterOptions,
  type RateLimiter,
  type RateLimitPermit,
  RoundTripFloor,
} from './limits/rate-limiter.js';
export {
  BUTTON_PRESS_BUSINESS_ID,
  CARD_BUSINESS_ID,
  CARD_MAX_BUTTONS,
  type CardButton,
  type CardPayload,
  cardPayload,
  fallbackText,
  mentionPrefix,
  parseButtonPress,
  parseRichMessage,
  type RichMessage,
  richMessageSchema,
} from './message/rich.js';
export { type Logger, silentLogger } from './observe/logger.js';
export type {
  ApiStats,
  CallOutcome,
  ClientStats,
  MeterLike,
  ObservabilityOptions,
} from './observe/telemetry.js';
export type {
  BotPlatform,
  BotProfile,
  BotSpec,
  Conversation,
  InboundAttachment,
  InboundMessage,
  ParsedWebhook,
  ReplyTarget,
  VerifyOptions,
  WebhookEvent,
  WebhookProof,
  WebhookRequest,
} from './platform.js';
export { jsonBody, stripMentions } from './platform.js';
export { refusalAnswer, type WebhookAnswer } from './receive/answer.js';
export { type BodyLimits, type NodeRequestLike, readFetchRequest, readNodeRequest } from './receive/body.js';
export { createFetchHandler, type FetchHandler } from './receive/fetch.js';
export type { Inbox } from './receive/inbox.js';
export type { Concurrency } from './receive/lanes.js';
export { type NodeResponseLike, receiveNodeRequest, writeNodeAnswer } from './receive/node.js';
export {
  adapterOptionsSchema,
  type ErrorReporter,
  type MessageHandler,
  pipelineOptionsShape,
  type Receipt,
  type Reply,
  replyTargetOf,
  type WebhookOptions,
  WebhookPipeline,
  type WebhookPipelineOptions,
} from './receive/pipeline.js';
export { BotReceiver, type BotReceiverOptions } from './receive/receiver.js';
export { MemorySeenStore, type MemorySeenStoreOptions, type SeenStore } from './receive/seen.js';
export * from './rongcloud/index.js';
export type {
  JournalEntry,
  OrphanCloser,
  StreamJournal,
} from './stream/journal.js';
export { keepAliveCapacity } from './stream/scheduler.js';
export {
  type FinishReason,
  type StreamFinish,
  StreamSession,
  type StreamSessionEvents,
  type StreamSessionOptions,
} from './stream/session.js';
export { readText, type TextSource } from './stream/source.js';
export { type MessageState, STREAM_IDLE_LIMIT_MS, type StreamTransport } from './stream/transport.js';
export * from './tencent/index.js';

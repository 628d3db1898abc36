/**
 * `@imbot/core`: the clients of both clouds, stream sessions, bot registration, the webhook pipeline
 * and the errors. What only some users need lives behind subpaths: `@imbot/core/tencent` and
 * `@imbot/core/rongcloud` (each cloud's limits, codes, signing and callbacks), `@imbot/core/activity`
 * (the activity model both activity adapters share), `@imbot/core/receive` (the receiving side's
 * parts, for entry and middleware authors) and `@imbot/core/internal` (what the sibling packages
 * share, with no semver promise).
 */
export {
  type EnsureBotsOptions,
  type EnsureBotsReport,
  ensureBots,
} from './bots/ensure.js';
export { IMBOT_ERROR_CODES, type ImbotErrorCode } from './error-codes.js';
export {
  ApiError,
  type ApiErrorDetails,
  ClosedError,
  CloudApiError,
  ImbotError,
  InterruptedError,
  NetworkError,
  NotHandledError,
  NotSupportedError,
  StoppedError,
  StreamClosedError,
  StreamSourceError,
  TimeoutError,
  ValidationError,
  type WebhookProblem,
  WebhookVerificationError,
} from './errors.js';
export type { HistoryOptions } from './history/conversation.js';
export type {
  AssistantModelMessage,
  FilePart,
  ImagePart,
  ModelMessage,
  TextPart,
  UserModelMessage,
} from './history/model-messages.js';
export {
  MemoryTranscriptStore,
  type MemoryTranscriptStoreOptions,
  type TranscriptEntry,
  type TranscriptStore,
} from './history/transcript.js';
export {
  type BudgetCharge,
  InMemoryRateLimiter,
  type InMemoryRateLimiterOptions,
  type RateLimiter,
  type RateLimitPermit,
} from './limits/rate-limiter.js';
export {
  type ButtonMode,
  ButtonPressRefusedError,
  type ButtonProblem,
} from './message/button-signer.js';
export { type CardButton, type CardPayload, fallbackText, type RichMessage } from './message/rich.js';
export type { Logger } from './observe/logger.js';
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
  HistorySlice,
  InboundAttachment,
  InboundMessage,
  ParsedWebhook,
  Questions,
  QuotedMessage,
  ReplyTarget,
  SendTextOptions,
  StoredMessage,
  UpdateTextOptions,
  VerifyOptions,
  WebhookEvent,
  WebhookProof,
  WebhookRequest,
} from './platform.js';
export type { WebhookAnswer } from './receive/answer.js';
export type { AnswerRun, ReceivedMessage, Reply } from './receive/answer-run.js';
export { type BodyLimits, type NodeRequestLike, readFetchRequest } from './receive/body.js';
export {
  createFetchHandler,
  type FetchContext,
  type FetchEntry,
  type FetchHandler,
  type FetchHandlerOptions,
  type WaitUntil,
} from './receive/fetch.js';
export type { Inbox } from './receive/inbox.js';
export type { Concurrency } from './receive/lanes.js';
export type { Middleware, ReceiveContext } from './receive/middleware.js';
export { type NodeResponseLike, receiveNodeRequest } from './receive/node.js';
export type {
  ErrorReporter,
  MessageHandler,
  ReceiveOptions,
  WebhookOptions,
  WebhookPipelineOptions,
} from './receive/options.js';
export { type Receipt, WebhookPipeline } from './receive/pipeline.js';
export { BotReceiver, type BotReceiverOptions } from './receive/receiver.js';
export { MemorySeenStore, type MemorySeenStoreOptions, type SeenStore } from './receive/seen.js';
export type { Signal, SignalHandler } from './receive/signals.js';
export type { StopChannel, StopOptions, StopRequest } from './receive/stop.js';
export type { Welcome, WelcomeOption } from './receive/welcome.js';
export { RongCloud, type RongCloudOptions } from './rongcloud/client.js';
export { RongCloudApiError } from './rongcloud/errors.js';
export type { RongBot } from './rongcloud/schemas.js';
export { signRongCloud } from './rongcloud/signature.js';
export type { RongStreamTarget } from './rongcloud/streams.js';
export type { JournalEntry, OrphanCloser, StreamJournal } from './stream/journal.js';
export type { AnswerPart } from './stream/parts.js';
export {
  type FinishReason,
  type StreamFinish,
  StreamSession,
  type StreamSessionEvents,
  type StreamSessionOptions,
} from './stream/session.js';
export type { AnswerSource, TextSource } from './stream/source.js';
export type { MessageState, StreamTransport } from './stream/transport.js';
export { TypingIndicator, type TypingSignal, type TypingState } from './stream/typing.js';
export {
  type StreamFormat,
  type StreamTarget,
  TencentIm,
  type TencentImOptions,
  type TencentProfile,
  type TencentStreamOptions,
} from './tencent/client.js';
export { TencentApiError, UserSigError, type UserSigProblem } from './tencent/errors.js';
export type { TencentRegion } from './tencent/regions.js';
export { genUserSig, verifyUserSig } from './tencent/usersig.js';
export type { RetryMode, RetryPolicy } from './wire/retry.js';
export { detectTransport, type TransportKind } from './wire/runtime.js';

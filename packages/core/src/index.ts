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
  NotSupportedError,
  outcomeUnknown,
  StreamClosedError,
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
  type RetryPolicy,
  withRetry,
} from './http/retry.js';
export {
  InMemoryRateLimiter,
  type InMemoryRateLimiterOptions,
  type RateLimiter,
  type RateLimitPermit,
} from './limits/rate-limiter.js';
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
  WebhookRequest,
} from './platform.js';
export { jsonBody } from './platform.js';
export {
  type FinishReason,
  type StreamFinish,
  StreamSession,
  type StreamSessionEvents,
  type StreamSessionOptions,
} from './stream/session.js';
export { readText, type TextSource } from './stream/source.js';
export type { StreamTransport } from './stream/transport.js';
export {
  type RetryMode,
  type StreamTarget,
  TencentIm,
  type TencentImOptions,
  type TencentProfile,
} from './tencent/client.js';
export {
  TENCENT_FREQUENCY_LIMIT,
  type TencentRetry,
  tencentHints,
  tencentRetryCodes,
} from './tencent/codes.js';
export { TencentPlatform } from './tencent/platform.js';
export { type TencentRegion, tencentRegions } from './tencent/regions.js';
export { randomUint32 } from './tencent/request.js';
export {
  type CreateRobotInput,
  MESSAGE_MAX_BYTES,
  type MsgBodyElement,
  PROFILE_FIELD_MAX_BYTES,
  ROBOT_ID_MAX_BYTES,
  ROBOT_PREFIX,
  ROBOTS_PER_APP,
  type SendGroupMsgInput,
  type SendMsgInput,
  type SendStreamMsgInput,
  type TencentProfileInput,
  USER_ID_MAX_BYTES,
} from './tencent/schemas.js';
export {
  decodeUserSig,
  type GenUserSigOptions,
  genUserSig,
  type UserSigClaims,
  type VerifyUserSigOptions,
  verifyUserSig,
} from './tencent/usersig.js';
export {
  parseTencentCallback,
  stripMentions,
  tencentAttachment,
  tencentCallbackSign,
  verifyTencentCallback,
} from './tencent/webhook.js';
export { utf8Bytes } from './validation.js';
export {
  type NodeRequestLike,
  readNodeRequest,
  WebhookReceiver,
  type WebhookReceiverOptions,
} from './webhook.js';

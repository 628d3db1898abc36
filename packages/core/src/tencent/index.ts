/** `@imbot/core/tencent`: the Tencent Cloud Chat client, its platform, codes, UserSig and callbacks. */

export type { CallCounts, PlanLimits, RateCharge, RateCounting, RateRow } from '../rate-rows.js';
export {
  type StreamFormat,
  type StreamTarget,
  TencentIm,
  type TencentImOptions,
  type TencentProfile,
  type TencentStreamOptions,
} from './client.js';
export {
  TENCENT_FREQUENCY_LIMIT,
  TENCENT_GROUP_FREQUENCY_LIMIT,
  type TencentRetry,
  tencentHints,
  tencentRetryCodes,
} from './codes.js';
export { tencentElements } from './elements.js';
export { TencentApiError, UserSigError, type UserSigProblem } from './errors.js';
export { TencentPlatform } from './platform.js';
export {
  TENCENT_GROUP_ROW,
  TENCENT_STREAM_ROW,
  tencentRateCharges,
  tencentRateTable,
  tencentRateTableFor,
} from './rate-table.js';
export { type TencentRegion, tencentRegions } from './regions.js';
export {
  type CreateRobotInput,
  GROUP_AT_MAX,
  GROUP_MEMBERS_PER_CALL,
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
} from './schemas.js';
export {
  branchData,
  CHATBOT_PLUGIN,
  chatbotTextOf,
  errorData,
  LEGACY_CHATBOT_PLUGIN,
  parseChatbotData,
  streamData,
  TUIKIT_SRC,
} from './tuikit.js';
export { TUIKIT_MESSAGE_MAX_BYTES, TuikitStreamTransport, type TuikitTarget } from './tuikit-stream.js';
export {
  decodeUserSig,
  type GenUserSigOptions,
  genUserSig,
  type UserSigClaims,
  type VerifyUserSigOptions,
  verifyUserSig,
} from './usersig.js';
export {
  parseTencentCallback,
  TENCENT_CALLBACK_TOLERANCE_SECONDS,
  tencentAttachment,
  tencentCallbackSign,
  verifyTencentCallback,
} from './webhook.js';

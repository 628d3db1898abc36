/** `@imbot/core/rongcloud`: the RongCloud client, its platform, codes, signature and callbacks. */

export type { CallCounts, PlanLimits, RateCharge, RateCounting, RateRow } from '../rate-rows.js';
export { RongCloud, type RongCloudOptions } from './client.js';
export { RONGCLOUD_FREQUENCY_LIMIT, rongCloudHints, rongCloudRetryCodes } from './codes.js';
export { BUTTON_OBJECT_NAME, CARD_OBJECT_NAME, rongMessageOf } from './elements.js';
export { RongCloudApiError } from './errors.js';
export { RongCloudPlatform } from './platform.js';
export {
  RONGCLOUD_CHANNEL_ROW,
  rongCloudRateCharges,
  rongCloudRateTable,
  rongCloudRateTableFor,
} from './rate-table.js';
export { type RongCloudRegion, rongCloudRegions } from './regions.js';
export {
  isRoutedBody,
  parseRoutedMessage,
  ROUTE_KEEP_MS,
  type RoutedMessage,
  RoutedStreams,
  type RouteQuery,
  type RouteStore,
} from './routes.js';
export {
  BOT_ID_MAX_CHARS,
  BOTS_PER_APP,
  BOTS_PER_GET,
  type CreateBotInput,
  MENTION_MAX,
  type PublishGroupInput,
  type PublishPrivateInput,
  type RecallInput,
  RONG_MESSAGE_MAX_BYTES,
  type RongBot,
  type RongBotIntegration,
  type RongMessage,
  type UpdateBotInput,
} from './schemas.js';
export { signRongCloud } from './signature.js';
export { ROUTE_WAIT_MS, type RongStreamTarget, RongStreamTransport, type RouteReadBack } from './streams.js';
export {
  parseRongCloudCallback,
  RONGCLOUD_CALLBACK_TOLERANCE_MS,
  verifyRongCloudCallback,
} from './webhook.js';

/**
 * `@imbot/core/internal`: what the other imbot packages share (the emulator signs, draws ids and
 * checks sizes exactly as the clients do; the Redis package learns round trips as the in-memory
 * limiter does). Not part of the documented API: no semver promise.
 */
export { RoundTripFloor } from './limits/rate-limiter.js';
export { BUTTON_PRESS_BUSINESS_ID, CARD_BUSINESS_ID, mentionTag, richMessageSchema } from './message/rich.js';
export { readNodeRequest } from './receive/body.js';
export { TYPING_OBJECT_NAME } from './rongcloud/client.js';
export { readRongAnswer } from './rongcloud/protocol.js';
export { rongCloudHeaders, rongCloudNonce } from './rongcloud/signature.js';
export { keepAliveCapacity } from './stream/scheduler.js';
export { STREAM_IDLE_LIMIT_MS } from './stream/transport.js';
export { TYPING_BUSINESS_ID } from './tencent/elements.js';
export { randomUint32 } from './tencent/protocol.js';
export { parseInput, utf8Bytes } from './validation.js';

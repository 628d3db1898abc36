/**
 * `@imbot/core/internal`: helpers the other imbot packages share (the emulator signs, draws ids and
 * checks sizes exactly as the clients do). Not part of the documented API: no semver promise.
 */
export { readRongAnswer } from './rongcloud/client.js';
export { rongCloudHeaders, rongCloudNonce } from './rongcloud/signature.js';
export { randomUint32 } from './tencent/request.js';
export { parseInput, utf8Bytes } from './validation.js';

export type { CallRecord, CloudProtocol, Reply } from './api-server.js';
export { CALLBACK_TIMEOUT_MS, type CallbackResult } from './callbacks.js';
export type { Group, Message, MessageState, TypingStatus } from './chat-state.js';
export {
  ClientRefused,
  type CreateGroup,
  type EmulatedBot,
  type EmulatedCloud,
  type GroupView,
  type Origin,
  type OriginFailure,
  type UserPresses,
  type UserSendResult,
  type UserSends,
  type UserSendsToGroup,
} from './cloud.js';
export { type Emulator, type EmulatorOptions, startEmulator } from './emulator.js';
export { type FaultConfig, type FaultKind, type FaultPlan, Faults, type Latency } from './faults.js';
export { seededRandom } from './random.js';
export {
  RongCloudEmulator,
  type RongCloudEmulatorOptions,
} from './rongcloud/emulator.js';
export type { RongBotRecord, RongIntegration } from './rongcloud/state.js';
export {
  TencentEmulator,
  type TencentEmulatorOptions,
} from './tencent/emulator.js';
export type { Profile, Robot } from './tencent/state.js';
export type { TrafficSecond, TrafficView } from './traffic.js';
export { busiestWindow, type WindowCounters } from './window.js';

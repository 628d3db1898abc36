export { type Emulator, type EmulatorOptions, startEmulator } from './emulator.js';
export { type FaultConfig, type FaultKind, type FaultPlan, Faults } from './faults.js';
export { CALLBACK_TIMEOUT_MS, type CallbackResult } from './tencent/callbacks.js';
export {
  type CallRecord,
  TencentEmulator,
  type TencentEmulatorOptions,
  type UserSendResult,
  type UserSends,
  type UserSendsToGroup,
} from './tencent/emulator.js';
export type { Message, MessageState, Profile, Robot } from './tencent/state.js';
export type { WindowCounters } from './window.js';

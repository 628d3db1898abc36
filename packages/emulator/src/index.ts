export type { CallRecord, CloudProtocol, Reply } from './api-server.js';
export type { Message, MessageState } from './chat-state.js';
export { type Emulator, type EmulatorOptions, startEmulator } from './emulator.js';
export { type FaultConfig, type FaultKind, type FaultPlan, Faults } from './faults.js';
export { CALLBACK_TIMEOUT_MS, type CallbackResult } from './tencent/callbacks.js';
export {
  TencentEmulator,
  type TencentEmulatorOptions,
  type UserSendResult,
  type UserSends,
  type UserSendsToGroup,
} from './tencent/emulator.js';
export type { Profile, Robot } from './tencent/state.js';
export type { WindowCounters } from './window.js';

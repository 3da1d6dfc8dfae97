/**
 * A local Kompliant for development and tests: the key management API with the rules of the
 * spec (section 5), KSig1 verification of every call, and webhook delivery with retries.
 *
 * @packageDocumentation
 */
export * from './emulator/start.js';
export { MAX_CONFIGS_PER_ACCOUNT, MAX_KEYS_PER_DAY } from './emulator/api-state.js';
export type { EmulatorCredential, InjectedFault } from './emulator/api-server.js';
export type { DeliveryAttempt, DeliveryRecord, EmittedEvent } from './emulator/sender.js';
export { EmitError } from './emulator/sender.js';

/**
 * The wire format's low-level parts, from `kompliant-webhooks/wire`: AES-256-GCM decryption of
 * the `data` bytes, the default AAD, the key id rule and the byte layouts the `detect` CLI command
 * tries. For tooling and diagnosis (a sender whose envelopes do not open); receiving webhooks
 * needs only the main entry point.
 *
 * @packageDocumentation
 */
export { decryptData, NONCE_BYTES, TAG_BYTES } from './wire/aes-gcm.js';
export { defaultAad, isValidKeyId, KEY_ID_PATTERN } from './wire/envelope.js';
export { DATA_LAYOUT_NAMES } from './wire/data-layout.js';
export type { DataLayoutName } from './wire/data-layout.js';
export type { AadOption } from './wire/envelope.js';
export type { EnvelopeMetadata } from './wire/event.js';

// The KeyStore contract: where the receiver gets a shared secret by key id.
import type { SharedSecret } from '../wire/secret.js';

/**
 * Where the receiver gets shared secrets. One method:
 *
 * - resolves the secret (base64 text as Kompliant issued it, or 32 raw bytes) for `keyId`;
 * - resolves `undefined` when the store does not hold that id (answered as 401 UNKNOWN_KEY);
 * - rejects when the store itself failed: network, throttling, permissions (answered as
 *   503 KEY_STORE_UNAVAILABLE, so the sender retries and nothing is lost).
 *
 * `keyId` has already been checked against `^whk_[0-9]{8}_[0-9]{2}$` before any call, but is
 * still unauthenticated: nothing is verified until decryption with the returned secret
 * succeeds.
 *
 * @example
 * ```ts
 * const keyStore: KeyStore = {
 *   async getSecret(keyId) {
 *     const row = await db.query('select secret from webhook_keys where key_id = $1', [keyId]);
 *     return row?.secret;
 *   },
 * };
 * ```
 */
export interface KeyStore {
  getSecret(keyId: string): Promise<SharedSecret | undefined>;
}

/** Throws a TypeError naming `optionName` unless `value` has a `getSecret` function. */
export function checkKeyStore(value: unknown, optionName = 'keyStore'): KeyStore {
  if (
    typeof value !== 'object' ||
    value === null ||
    typeof (value as { getSecret?: unknown }).getSecret !== 'function'
  ) {
    throw new TypeError(`${optionName} must be an object with a getSecret(keyId) method`);
  }
  return value as KeyStore;
}

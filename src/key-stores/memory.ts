// A key store holding secrets in process memory, checked when it is created.
import { isValidKeyId } from '../wire/envelope.js';
import type { KeyStore } from './key-store.js';
import { isValidSharedSecret, type SharedSecret } from '../wire/secret.js';

/**
 * A key store holding secrets in process memory: for tests, demos, and secrets you load
 * yourself at start-up. Every entry is checked at construction; a key id that does not match
 * `whk_YYYYMMDD_NN` or a secret that is not base64 of exactly 32 bytes throws a TypeError
 * naming the key id (never the secret).
 *
 * @example
 * ```ts
 * const keyStore = memoryKeyStore({
 *   whk_20251121_01: process.env.KOMPLIANT_WEBHOOK_SECRET_20251121_01!,
 * });
 * ```
 */
export function memoryKeyStore(
  secrets: Readonly<Record<string, SharedSecret>> | ReadonlyMap<string, SharedSecret>,
): KeyStore {
  if (typeof secrets !== 'object' || secrets === null) {
    throw new TypeError('memoryKeyStore expects a record or Map of key_id -> secret');
  }
  const entries: Iterable<[string, unknown]> =
    secrets instanceof Map ? secrets.entries() : Object.entries(secrets as Record<string, unknown>);
  const held = new Map<string, SharedSecret>();
  for (const [keyId, secret] of entries) {
    if (!isValidKeyId(keyId)) {
      throw new TypeError(`memoryKeyStore: key id ${JSON.stringify(String(keyId).slice(0, 64))} is not of the form whk_YYYYMMDD_NN`);
    }
    if (!isValidSharedSecret(secret)) {
      throw new TypeError(`memoryKeyStore: the secret for ${keyId} is not base64 of exactly 32 bytes`);
    }
    held.set(keyId, typeof secret === 'string' ? secret : Uint8Array.from(secret));
  }
  return {
    getSecret: (keyId: string) => Promise.resolve(held.get(keyId)),
  };
}

// The SecretSink contract: where a rotation stores a new key's shared secret.
import type { KeyStore } from '../key-stores/key-store.js';

/**
 * Where a rotation stores a new key's shared secret. `store` must durably keep the secret (or
 * hand it to a human); `keyStore`, when present, is how the receiver side reads it back, so a
 * rotation can prove the secret is resolvable before activating the key.
 *
 * @example
 * ```ts
 * const sink: SecretSink = {
 *   name: 'vault',
 *   store: (keyId, secret) => vault.write(`kompliant/webhook/${keyId}`, secret),
 *   keyStore: { getSecret: (keyId) => vault.read(`kompliant/webhook/${keyId}`) },
 * };
 * ```
 */
export interface SecretSink {
  /** A short name for reports, e.g. `'env-file'`. */
  readonly name: string;
  /** Stores the secret for `keyId`. Must reject (never resolve) when it could not. */
  store(keyId: string, secret: string): Promise<void>;
  /** Reads secrets back the way the receiver will. Absent for sinks that cannot be read (stdout). */
  readonly keyStore?: KeyStore;
}

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
 *   store: (keyId, secret, context) => vault.write(`kompliant/webhook/${context?.accountId}/${keyId}`, secret),
 *   keyStore: { getSecret: (keyId, context) => vault.read(`kompliant/webhook/${context?.accountId}/${keyId}`) },
 * };
 * ```
 */
export interface SecretSink {
  /** A short name for reports, e.g. `'env-file'`. */
  readonly name: string;
  /**
   * Stores the secret for `keyId` of the account `context.accountId` (key ids are numbered per
   * account, so two accounts both own `whk_20251121_01`: store under the pair when one receiver
   * serves several accounts). Must reject (never resolve) when it could not.
   */
  store(keyId: string, secret: string, context?: { accountId: string }): Promise<void>;
  /** Reads secrets back the way the receiver will. Absent for sinks that cannot be read (stdout). */
  readonly keyStore?: KeyStore;
}

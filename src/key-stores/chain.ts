// A key store that asks several stores in order; the first that holds the key id wins.
import { isWebhookError } from '../wire/errors.js';
import { checkKeyStore, describeKeyLookup, type KeyLookupContext, type KeyStore } from './key-store.js';
import type { SharedSecret } from '../wire/secret.js';

/**
 * A key store that asks several stores in order; the first that holds the key id wins.
 * A store that fails (rejects) does not hide a later one that holds the id. When none holds
 * it, the chain resolves `undefined` (401 UNKNOWN_KEY) if at least one store answered, and
 * rejects with an `AggregateError` of the failures (503 KEY_STORE_UNAVAILABLE) only if every
 * store failed. Either way the sender retries. A store that holds an invalid secret
 * (`WebhookError` INVALID_KEY) stops the chain: that is a configuration error. Each store gets
 * the lookup's context (`accountId`, `signal`) as it is; once the signal is aborted no further
 * store is asked. `describe(keyId, { accountId })` joins what each store's own `describe` says.
 * The chain is `inProcess` (never budgeted by the cache) only when every store in it is.
 *
 * @example
 * ```ts
 * // During a migration: new keys in Secrets Manager, old ones still in env variables.
 * const keyStore = chainKeyStores(awsSecretsManagerKeyStore(), envKeyStore());
 * ```
 */
export function chainKeyStores(...stores: KeyStore[]): KeyStore {
  if (stores.length === 0) throw new TypeError('chainKeyStores needs at least one key store');
  stores.forEach((store, index) => checkKeyStore(store, `chainKeyStores: store ${index}`));
  const chain = [...stores];

  return {
    // In process only when no store in the chain leaves the process.
    ...(chain.every((store) => store.inProcess === true) ? { inProcess: true } : {}),
    async getSecret(keyId: string, context?: KeyLookupContext): Promise<SharedSecret | undefined> {
      const failures: unknown[] = [];
      for (const store of chain) {
        if (context?.signal?.aborted === true) throw context.signal.reason;
        let secret: SharedSecret | undefined;
        try {
          secret = context === undefined ? await store.getSecret(keyId) : await store.getSecret(keyId, context);
        } catch (error) {
          if (isWebhookError(error) && error.code === 'INVALID_KEY') throw error;
          failures.push(error);
          continue;
        }
        if (secret !== undefined && secret !== null) return secret;
      }
      if (failures.length === chain.length) {
        throw new AggregateError(failures, `chainKeyStores: all ${chain.length} key stores failed`);
      }
      return undefined;
    },
    describe(keyId: string, context: { accountId: string }): string {
      return chain.map((store, index) => describeKeyLookup(store, keyId, context.accountId) ?? `store ${index} (no describe())`).join('; then ');
    },
  };
}

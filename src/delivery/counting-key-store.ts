// Counts real key-store calls (beneath the cache) into the stats sink, per account.
import { countStat, type WebhookStatsSink } from './stats.js';
import type { KeyStore } from '../key-stores/key-store.js';

/**
 * Wraps a key store so each lookup (and refetch, when the store has `refetchSecret`) is counted
 * with its account; unchanged when no `stats` sink is set.
 */
export function countingKeyStore(keyStore: KeyStore, stats: WebhookStatsSink | undefined): KeyStore {
  if (stats === undefined) return keyStore;
  const counted: KeyStore = {
    // What the cache above needs to know: a store in process is never budgeted.
    ...(keyStore.inProcess === true ? { inProcess: true } : {}),
    getSecret(keyId, context) {
      countStat(stats, 'key_store_lookup', undefined, context?.accountId);
      return keyStore.getSecret(keyId, context);
    },
  };
  const refetch = keyStore.refetchSecret;
  if (typeof refetch === 'function') {
    counted.refetchSecret = (keyId, context) => {
      countStat(stats, 'key_store_lookup', undefined, context.accountId);
      return refetch.call(keyStore, keyId, context);
    };
  }
  return counted;
}

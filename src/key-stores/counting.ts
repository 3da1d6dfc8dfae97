// Counts real key-store calls (beneath the cache) into the stats sink, per account.
import { countStat, type WebhookStatsSink } from '../delivery/stats.js';
import type { KeyStore } from './key-store.js';

/** Wraps a key store so each lookup is counted with its account (unchanged when no `stats` sink is set). */
export function countingKeyStore(keyStore: KeyStore, stats: WebhookStatsSink | undefined): KeyStore {
  if (stats === undefined) return keyStore;
  return {
    getSecret(keyId, context) {
      countStat(stats, 'key_store_lookup', undefined, context?.accountId);
      return keyStore.getSecret(keyId, context);
    },
  };
}

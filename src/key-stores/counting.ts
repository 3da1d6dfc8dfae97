// Counts real key-store calls (beneath the cache) into the stats sink.
import { countStat, type WebhookStatsSink } from '../delivery/stats.js';
import type { KeyStore } from './key-store.js';

/** Wraps a key store so each lookup is counted (unchanged when no `stats` sink is set). */
export function countingKeyStore(keyStore: KeyStore, stats: WebhookStatsSink | undefined): KeyStore {
  if (stats === undefined) return keyStore;
  return {
    getSecret(keyId) {
      countStat(stats, 'key_store_lookup');
      return keyStore.getSecret(keyId);
    },
  };
}

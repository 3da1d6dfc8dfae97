// The key cache in front of every store: TTL, bounded size, negative cache, single-flight lookups and a lookup budget.
import { isValidKeyId } from '../wire/envelope.js';
import { WebhookError, isWebhookError } from '../wire/errors.js';
import { checkKeyStore, type KeyStore } from './key-store.js';
import { checkFunction, checkOptionNames, checkPositiveInteger } from '../options/checks.js';
import { isSameSharedSecret, requireValidSharedSecret, type SharedSecret } from '../wire/secret.js';

/** Default time a found secret is served from the cache: 1 hour (minus up to 10 % jitter). */
export const DEFAULT_CACHE_TTL_MS = 60 * 60 * 1000;
/** Default number of key ids kept (least recently used evicted first): 1000. */
export const DEFAULT_CACHE_MAX_ENTRIES = 1000;
/** Default time an unknown key id is remembered as unknown: 60 s. */
export const DEFAULT_NEGATIVE_TTL_MS = 60 * 1000;
/** Default budget of store lookups per second for key ids not in the cache: 10. */
export const DEFAULT_LOOKUPS_PER_SECOND = 10;

/** Options of {@link cachedKeyStore} (and the receiver's `cache` option). */
export interface CachedKeyStoreOptions {
  /** How long a found secret is served before it is looked up again. Default 3 600 000 (1 h). */
  ttlMs?: number;
  /**
   * Fraction of `ttlMs` taken off at random per entry, so keys cached together do not expire
   * together. From 0 (none) to 0.5. Default 0.1.
   */
  ttlJitter?: number;
  /** Most key ids kept, least recently used evicted first; also bounds unknown ids. Default 1000. */
  maxEntries?: number;
  /** How long a key id the store does not hold is answered as unknown without asking. Default 60 000. */
  negativeTtlMs?: number;
  /**
   * Budget of store lookups per second (burst of the same size) for key ids not in the cache,
   * and for refetches after a decryption failure. Past it the cache answers 503
   * KEY_STORE_UNAVAILABLE without calling the store, so a flood of random well-formed key ids
   * costs a bounded number of store calls. Default 10.
   */
  lookupsPerSecond?: number;
  /**
   * When refreshing an expired secret fails (store down, throttled), the last good secret keeps
   * being served for up to this long past its expiry. Default 86 400 000 (24 h).
   */
  staleIfErrorMs?: number;
  /** After a failed refresh, how long the stale secret is served before the store is tried again. Default 10 000. */
  errorRetryMs?: number;
  /**
   * When decryption fails with a cached secret, the key id is looked up again (once, then not
   * again for this long, counted from its last lookup), in case the secret was corrected in
   * the store. Default 60 000.
   */
  refetchIntervalMs?: number;
  /** The clock, in milliseconds. Default `Date.now`; inject one in tests instead of sleeping. */
  now?: () => number;
}

const OPTION_NAMES = [
  'ttlMs',
  'ttlJitter',
  'maxEntries',
  'negativeTtlMs',
  'lookupsPerSecond',
  'staleIfErrorMs',
  'errorRetryMs',
  'refetchIntervalMs',
  'now',
];

// Symbol.for: found across copies of the library (the CJS and ESM builds).
const REFETCH = Symbol.for('kompliant-webhooks.cachedKeyStore.refetch');
const PEEK = Symbol.for('kompliant-webhooks.cachedKeyStore.peek');

type Refetch = (keyId: string, used: SharedSecret) => Promise<SharedSecret | undefined>;
type Peek = (keyId: string) => SharedSecret | undefined;

interface CachedEntry {
  secret: SharedSecret;
  expiresAt: number;
  /** Until when a stale secret is served after a failed refresh without asking again. */
  retryAt: number;
  /** Earliest time a decryption failure may trigger a refetch. */
  refetchAt: number;
}

function checkJitter(value: unknown, name: string): number {
  if (value === undefined) return 0.1;
  if (typeof value !== 'number' || !(value >= 0 && value <= 0.5)) throw new TypeError(`${name} must be a number from 0 to 0.5`);
  return value;
}

/** Map insertion order as LRU order: re-inserting moves a key to the end. */
function touch<V>(map: Map<string, V>, key: string, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  while (map.size > max) {
    const oldest = map.keys().next();
    if (oldest.done === true) break;
    map.delete(oldest.value);
  }
}

/** A store lookup failure worth serving a stale secret for; INVALID_KEY is a configuration error. */
function isTransient(error: unknown): boolean {
  return !(isWebhookError(error) && error.code === 'INVALID_KEY');
}

/** @internal Builds the cache; `where` prefixes option errors (`cache` when built by the receiver). */
export function createCachedKeyStore(store: KeyStore, options: CachedKeyStoreOptions, where: string): KeyStore {
  checkKeyStore(store, `${where}: store`);
  if (typeof options !== 'object' || options === null) throw new TypeError(`${where} options must be an object`);
  checkOptionNames(options, OPTION_NAMES, where);
  const ttlMs = checkPositiveInteger(options.ttlMs, `${where}.ttlMs`, DEFAULT_CACHE_TTL_MS);
  const ttlJitter = checkJitter(options.ttlJitter, `${where}.ttlJitter`);
  const maxEntries = checkPositiveInteger(options.maxEntries, `${where}.maxEntries`, DEFAULT_CACHE_MAX_ENTRIES);
  const negativeTtlMs = checkPositiveInteger(options.negativeTtlMs, `${where}.negativeTtlMs`, DEFAULT_NEGATIVE_TTL_MS);
  const lookupsPerSecond = checkPositiveInteger(options.lookupsPerSecond, `${where}.lookupsPerSecond`, DEFAULT_LOOKUPS_PER_SECOND);
  const staleIfErrorMs = checkPositiveInteger(options.staleIfErrorMs, `${where}.staleIfErrorMs`, 24 * 60 * 60 * 1000);
  const errorRetryMs = checkPositiveInteger(options.errorRetryMs, `${where}.errorRetryMs`, 10_000);
  const refetchIntervalMs = checkPositiveInteger(options.refetchIntervalMs, `${where}.refetchIntervalMs`, 60_000);
  const now = checkFunction<() => number>(options.now, `${where}.now`) ?? Date.now;

  const found = new Map<string, CachedEntry>();
  const unknown = new Map<string, number>();
  const inFlight = new Map<string, Promise<SharedSecret | undefined>>();
  // The key id `found` last moved to its end; entries are only ever added through touch().
  let newestFound: string | undefined;
  let tokens = lookupsPerSecond;
  let tokensAt = now();

  const takeToken = (t: number): boolean => {
    if (t > tokensAt) {
      tokens = Math.min(lookupsPerSecond, tokens + ((t - tokensAt) * lookupsPerSecond) / 1000);
      tokensAt = t;
    }
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };

  /** One store call per key id at a time; records what it learns. */
  const lookUp = (keyId: string): Promise<SharedSecret | undefined> => {
    const pending = inFlight.get(keyId);
    if (pending !== undefined) return pending;
    const call = (async () => {
      try {
        let value: SharedSecret | undefined;
        try {
          value = await store.getSecret(keyId);
        } catch (error) {
          const entry = found.get(keyId);
          if (!isTransient(error)) found.delete(keyId);
          else if (entry !== undefined) entry.retryAt = now() + errorRetryMs;
          throw error;
        }
        const t = now();
        if (value === undefined || value === null) {
          found.delete(keyId);
          touch(unknown, keyId, t + negativeTtlMs, maxEntries);
          return undefined;
        }
        let secret: SharedSecret;
        try {
          secret = requireValidSharedSecret(value);
        } catch (error) {
          found.delete(keyId);
          throw error;
        }
        unknown.delete(keyId);
        const expiresAt = t + ttlMs - Math.floor(ttlMs * ttlJitter * Math.random());
        touch(found, keyId, { secret, expiresAt, retryAt: 0, refetchAt: t + refetchIntervalMs }, maxEntries);
        newestFound = keyId;
        return secret;
      } finally {
        inFlight.delete(keyId);
      }
    })();
    inFlight.set(keyId, call);
    return call;
  };

  const refresh = async (keyId: string): Promise<SharedSecret | undefined> => {
    try {
      return await lookUp(keyId);
    } catch (error) {
      const entry = found.get(keyId);
      if (isTransient(error) && entry !== undefined && now() - entry.expiresAt <= staleIfErrorMs) return entry.secret;
      throw error;
    }
  };

  const refetch: Refetch = async (keyId, used) => {
    const entry = found.get(keyId);
    const t = now();
    if (entry === undefined) return undefined;
    let fresh: SharedSecret | undefined;
    try {
      const pending = inFlight.get(keyId);
      if (pending !== undefined) fresh = await pending;
      else {
        if (t < entry.refetchAt || !takeToken(t)) return undefined;
        entry.refetchAt = t + refetchIntervalMs;
        fresh = await lookUp(keyId);
      }
    } catch {
      return undefined;
    }
    return fresh !== undefined && !isSameSharedSecret(fresh, used) ? fresh : undefined;
  };

  /** Marks a cached key id as the most recently used. */
  const use = (keyId: string, entry: CachedEntry): void => {
    // Already the most recently used (the usual case: one active key id): nothing to move.
    if (keyId !== newestFound) {
      touch(found, keyId, entry, maxEntries);
      newestFound = keyId;
    }
  };

  /** The secret of a cached key id within its TTL, synchronously; otherwise `undefined`. */
  const peek: Peek = (keyId) => {
    const entry = found.get(keyId);
    if (entry === undefined || !(now() < entry.expiresAt)) return undefined;
    use(keyId, entry);
    return entry.secret;
  };

  return {
    async getSecret(keyId: string): Promise<SharedSecret | undefined> {
      if (!isValidKeyId(keyId)) return undefined;
      const t = now();
      const entry = found.get(keyId);
      if (entry !== undefined) {
        use(keyId, entry);
        if (t < entry.expiresAt) return entry.secret;
        if (t < entry.retryAt && t - entry.expiresAt <= staleIfErrorMs) return entry.secret;
        return refresh(keyId);
      }
      const unknownUntil = unknown.get(keyId);
      if (unknownUntil !== undefined) {
        if (t < unknownUntil) return undefined;
        unknown.delete(keyId);
      }
      const pending = inFlight.get(keyId);
      if (pending !== undefined) return pending;
      if (!takeToken(t)) {
        throw new WebhookError('KEY_STORE_UNAVAILABLE', { message: 'Key store lookup budget exhausted, retry later' });
      }
      return lookUp(keyId);
    },
    [REFETCH]: refetch,
    [PEEK]: peek,
  } as KeyStore;
}

/**
 * Wraps a key store in a cache built for a public endpoint. The receiver and every HTTP
 * adapter do this by default (their `cache` option tunes it, `cache: false` turns it off), so
 * call it yourself only to share one cache between several receivers.
 *
 * - Found secrets are served for `ttlMs` (1 h, minus up to 10 % jitter); at most `maxEntries`
 *   (1000) key ids are kept, least recently used evicted first.
 * - One store call per key id at a time: N concurrent first requests make 1 call.
 * - Unknown key ids are remembered for `negativeTtlMs` (60 s), so a secret deployed just after
 *   its key was activated starts working within a minute while the sender retries.
 * - Lookups for key ids not in the cache share a budget of `lookupsPerSecond` (10): past it the
 *   answer is 503 KEY_STORE_UNAVAILABLE (the sender retries) without calling the store.
 * - Stale-if-error: when refreshing an expired secret fails, the last good secret keeps being
 *   served (for up to `staleIfErrorMs`, 24 h), retrying the store every `errorRetryMs` (10 s).
 * - On DECRYPTION_FAILED with a cached secret, the receiver asks the cache to look the key id up
 *   once more (at most once per `refetchIntervalMs` per key id, within the budget) and retries
 *   with the new secret if it changed.
 * - Every secret is checked before it is cached: a malformed one rejects with INVALID_KEY.
 *
 * @example
 * ```ts
 * const keyStore = cachedKeyStore(awsSecretsManagerKeyStore(), { ttlMs: 15 * 60 * 1000 });
 * app.post('/a', kompliantWebhook({ keyStore, cache: false, onEvent }));
 * ```
 */
export function cachedKeyStore(store: KeyStore, options: CachedKeyStoreOptions = {}): KeyStore {
  return createCachedKeyStore(store, options, 'cachedKeyStore');
}

/** @internal True for a store built by {@link cachedKeyStore}. */
export function isCachedKeyStore(store: KeyStore): boolean {
  return typeof (store as { [REFETCH]?: unknown })[REFETCH] === 'function';
}

/**
 * @internal The pipeline's fast path: the secret a {@link cachedKeyStore} holds for a
 * (validated) `keyId` within its TTL, without a promise; `undefined` when the store is not a
 * cache or the key id is not fresh in it (then ask `getSecret`, which handles every other case).
 */
export function peekCachedSecret(store: KeyStore, keyId: string): SharedSecret | undefined {
  const peek = (store as { [PEEK]?: Peek })[PEEK];
  return typeof peek === 'function' ? peek(keyId) : undefined;
}

/**
 * @internal Called by the pipeline once after DECRYPTION_FAILED: a secret different from
 * `used`, newly fetched from the store, or `undefined` (no cache, rate-limited, unchanged,
 * gone, or the store failed). Never rejects.
 */
export async function refetchAfterDecryptionFailure(
  store: KeyStore,
  keyId: string,
  used: SharedSecret,
): Promise<SharedSecret | undefined> {
  const refetch = (store as { [REFETCH]?: Refetch })[REFETCH];
  if (typeof refetch !== 'function') return undefined;
  try {
    return await refetch(keyId, used);
  } catch {
    return undefined;
  }
}

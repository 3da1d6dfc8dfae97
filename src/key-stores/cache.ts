// The key cache in front of every store: TTL, bounded size, negative cache, single-flight lookups and a lookup budget.
import { isValidKeyId } from '../wire/envelope.js';
import { WebhookError, isWebhookError } from '../wire/errors.js';
import { checkKeyStore, describeKeyLookup, type KeyLookupContext, type KeyStore, type RefetchContext } from './key-store.js';
import { checkFunction, checkOptionNames, checkPositiveInteger } from '../options/checks.js';
import { createLookupBudget, touch, type LookupBudget } from './lookup-budget.js';
import { isSameSharedSecret, requireValidSharedSecret, type SharedSecret } from '../wire/secret.js';

/** Default time a found secret is served from the cache: 1 hour (minus up to 10 % jitter). */
export const DEFAULT_CACHE_TTL_MS = 60 * 60 * 1000;
/** Default number of key ids kept (least recently used evicted first): 1000. */
export const DEFAULT_CACHE_MAX_ENTRIES = 1000;
/** Default time an unknown key id is remembered as unknown: 60 s. */
export const DEFAULT_NEGATIVE_TTL_MS = 60 * 1000;
/** Default refill of the lookup pool shared by accounts that have not authenticated a webhook yet: 100 a second. */
export const DEFAULT_LOOKUPS_PER_SECOND = 100;
/** Default size of that pool, as a multiple of `lookupsPerSecond`: 5 (500 lookups at once). */
export const DEFAULT_LOOKUP_BURST_FACTOR = 5;
/** Default budget of one account: 20 lookups a second, burst of the same size. */
export const DEFAULT_ACCOUNT_LOOKUPS_PER_SECOND = 20;
/** Default deadline of one key-store lookup: 5 s (the receiver's `keyStoreTimeoutMs`). */
export const DEFAULT_KEY_STORE_TIMEOUT_MS = 5_000;

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
   * Store lookups for key ids not in the cache (and refetches after a decryption failure) are
   * budgeted, unless the store says it is `inProcess` (memory, env: never budgeted). An account
   * that has authenticated a webhook in this process draws only from its own budget
   * (`accountLookupsPerSecond`); any other account draws from its own budget and from a pool
   * shared by all such accounts: `lookupBurst` lookups at once, refilled at this rate. Past the
   * budget the cache answers 503 KEY_STORE_UNAVAILABLE without calling the store (the sender
   * retries), so a flood of random well-formed key ids costs a bounded number of store calls.
   * Default 100.
   */
  lookupsPerSecond?: number;
  /** Size of the shared pool (see `lookupsPerSecond`). Default five times `lookupsPerSecond` (500). */
  lookupBurst?: number;
  /**
   * Store lookups per second for one account, burst of the same size. Within an account, key ids
   * whose date is not a calendar date, lies more than a day ahead, or is more than 400 days
   * before the oldest key the account authenticated with may only use the first half of the
   * budget, and ids dated before its newest authenticated key the first three quarters: when it
   * runs short, key ids where a newly activated key would be are looked up first. Default 20.
   */
  accountLookupsPerSecond?: number;
  /**
   * Stale-while-revalidate: a secret past `ttlMs` is served at once while one background
   * refresh asks the store, for up to this long past its expiry; when the store is down or
   * slow the last good secret keeps being served for that long. Past it, a request waits for
   * the store like one for a key id never seen. Default 86 400 000 (24 h).
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
  /**
   * Deadline of one store call. A call not settled by then fails its waiting requests with 503
   * KEY_STORE_UNAVAILABLE, its `signal` is aborted, and the next request asks the store again
   * (within the lookup budget). Default 5000; a cache built by the receiver uses its
   * `keyStoreTimeoutMs`.
   */
  timeoutMs?: number;
  /** The clock, in milliseconds. Default `Date.now`; inject one in tests instead of sleeping. */
  now?: () => number;
}

const OPTION_NAMES = [
  'ttlMs',
  'ttlJitter',
  'maxEntries',
  'negativeTtlMs',
  'lookupsPerSecond',
  'lookupBurst',
  'accountLookupsPerSecond',
  'staleIfErrorMs',
  'errorRetryMs',
  'refetchIntervalMs',
  'timeoutMs',
  'now',
];

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

/** A store lookup failure worth serving a stale secret for; INVALID_KEY is a configuration error. */
function isTransient(error: unknown): boolean {
  return !(isWebhookError(error) && error.code === 'INVALID_KEY');
}

/**
 * The cache key of a lookup: account id and key id. Neither can hold a space (both patterns
 * exclude it), so the pair is unambiguous. A store called without an account (outside the
 * receiver) uses the empty account.
 */
function pairKey(accountId: string, keyId: string): string {
  return `${accountId} ${keyId}`;
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
  const lookupBurst = checkPositiveInteger(options.lookupBurst, `${where}.lookupBurst`, lookupsPerSecond * DEFAULT_LOOKUP_BURST_FACTOR);
  const accountLookupsPerSecond = checkPositiveInteger(
    options.accountLookupsPerSecond,
    `${where}.accountLookupsPerSecond`,
    DEFAULT_ACCOUNT_LOOKUPS_PER_SECOND,
  );
  const staleIfErrorMs = checkPositiveInteger(options.staleIfErrorMs, `${where}.staleIfErrorMs`, 24 * 60 * 60 * 1000);
  const errorRetryMs = checkPositiveInteger(options.errorRetryMs, `${where}.errorRetryMs`, 10_000);
  const refetchIntervalMs = checkPositiveInteger(options.refetchIntervalMs, `${where}.refetchIntervalMs`, 60_000);
  const timeoutMs = checkPositiveInteger(options.timeoutMs, `${where}.timeoutMs`, DEFAULT_KEY_STORE_TIMEOUT_MS);
  const now = checkFunction<() => number>(options.now, `${where}.now`) ?? Date.now;

  const found = new Map<string, CachedEntry>();
  const unknown = new Map<string, number>();
  const inFlight = new Map<string, Promise<SharedSecret | undefined>>();
  // A store in this process (memory, env) costs nothing to ask: no budget at all.
  const budget: LookupBudget | undefined =
    store.inProcess === true
      ? undefined
      : createLookupBudget({
          sharedPerSecond: lookupsPerSecond,
          sharedBurst: lookupBurst,
          accountPerSecond: accountLookupsPerSecond,
          maxAccounts: maxEntries,
          now,
        });
  const takeToken = (accountId: string, keyId: string): boolean => budget === undefined || budget.take(accountId, keyId);

  /** Records what a settled store call learned about `pair`. */
  const record = (pair: string, value: SharedSecret | undefined | null): SharedSecret | undefined => {
    const t = now();
    if (value === undefined || value === null) {
      found.delete(pair);
      touch(unknown, pair, t + negativeTtlMs, maxEntries);
      return undefined;
    }
    let secret: SharedSecret;
    try {
      secret = requireValidSharedSecret(value);
    } catch (error) {
      found.delete(pair);
      throw error;
    }
    unknown.delete(pair);
    const expiresAt = t + ttlMs - Math.floor(ttlMs * ttlJitter * Math.random());
    touch(found, pair, { secret, expiresAt, retryAt: 0, refetchAt: t + refetchIntervalMs }, maxEntries);
    return secret;
  };

  /** A failed (or timed-out) store call: keep a stale secret for a while, drop it on INVALID_KEY. */
  const recordFailure = (pair: string, error: unknown): void => {
    const entry = found.get(pair);
    if (!isTransient(error)) found.delete(pair);
    else if (entry !== undefined) entry.retryAt = now() + errorRetryMs;
  };

  /**
   * One store call per pair at a time, with a deadline: a call not settled after `timeoutMs`
   * rejects its waiters with KEY_STORE_UNAVAILABLE, its signal is aborted, and it is no longer
   * shared, so the next request asks the store again. What it answers later is ignored.
   */
  const lookUp = (keyId: string, accountId: string): Promise<SharedSecret | undefined> => {
    const pair = pairKey(accountId, keyId);
    const pending = inFlight.get(pair);
    if (pending !== undefined) return pending;
    const controller = new AbortController();
    const call = new Promise<SharedSecret | undefined>((resolve, reject) => {
      let settled = false;
      const finish = (): boolean => {
        if (settled) return false;
        settled = true;
        clearTimeout(timer);
        if (inFlight.get(pair) === call) inFlight.delete(pair);
        return true;
      };
      const timer = setTimeout(() => {
        if (!finish()) return;
        const error = new WebhookError('KEY_STORE_UNAVAILABLE', { message: `Key store lookup did not settle within ${timeoutMs} ms` });
        controller.abort(error);
        recordFailure(pair, error);
        reject(error);
      }, timeoutMs);
      (timer as { unref?: () => void }).unref?.();
      let answer: Promise<SharedSecret | undefined>;
      try {
        answer = Promise.resolve(store.getSecret(keyId, { accountId, signal: controller.signal }));
      } catch (error) {
        answer = Promise.reject(error);
      }
      answer.then(
        (value) => {
          if (!finish()) return;
          try {
            resolve(record(pair, value));
          } catch (error) {
            reject(error);
          }
        },
        (error: unknown) => {
          if (!finish()) return;
          recordFailure(pair, error);
          reject(error);
        },
      );
    });
    // Settling always happens in a later tick, so `call` is registered before it can be removed.
    inFlight.set(pair, call);
    return call;
  };

  /** Starts one background refresh of a stale pair (stale-while-revalidate); never rejects. */
  const revalidate = (keyId: string, accountId: string, pair: string): void => {
    if (inFlight.has(pair)) return;
    lookUp(keyId, accountId).catch(() => undefined);
  };

  const refetch = async (keyId: string, accountId: string, used: SharedSecret): Promise<SharedSecret | undefined> => {
    const pair = pairKey(accountId, keyId);
    const entry = found.get(pair);
    const t = now();
    if (entry === undefined) return undefined;
    let fresh: SharedSecret | undefined;
    try {
      const pending = inFlight.get(pair);
      if (pending !== undefined) fresh = await pending;
      else {
        if (t < entry.refetchAt || !takeToken(accountId, keyId)) return undefined;
        entry.refetchAt = t + refetchIntervalMs;
        fresh = await lookUp(keyId, accountId);
      }
    } catch {
      return undefined;
    }
    return fresh !== undefined && !isSameSharedSecret(fresh, used) ? fresh : undefined;
  };

  return new CachedKeyStore(
    async (keyId: string, context?: KeyLookupContext): Promise<SharedSecret | undefined> => {
      if (!isValidKeyId(keyId)) return undefined;
      const accountId = typeof context?.accountId === 'string' ? context.accountId : '';
      const pair = pairKey(accountId, keyId);
      const t = now();
      const entry = found.get(pair);
      if (entry !== undefined) {
        touch(found, pair, entry, maxEntries);
        if (t < entry.expiresAt) return entry.secret;
        if (t - entry.expiresAt <= staleIfErrorMs) {
          // Stale-while-revalidate: a known pair never waits for the store.
          if (t >= entry.retryAt) revalidate(keyId, accountId, pair);
          return entry.secret;
        }
        return lookUp(keyId, accountId);
      }
      const unknownUntil = unknown.get(pair);
      if (unknownUntil !== undefined) {
        if (t < unknownUntil) return undefined;
        unknown.delete(pair);
      }
      const pending = inFlight.get(pair);
      if (pending !== undefined) return pending;
      if (!takeToken(accountId, keyId)) {
        throw new WebhookError('KEY_STORE_UNAVAILABLE', { message: 'Key store lookup budget exhausted, retry later' });
      }
      return lookUp(keyId, accountId);
    },
    async (keyId: string, context: RefetchContext): Promise<SharedSecret | undefined> => {
      if (!isValidKeyId(keyId)) return undefined;
      return refetch(keyId, typeof context?.accountId === 'string' ? context.accountId : '', context.used);
    },
    // The store's own description of where it looks (see KeyStore.describe), when it has one.
    typeof store.describe === 'function' ? (keyId: string, context: { accountId: string }) => describeKeyLookup(store, keyId, context.accountId) ?? '' : undefined,
    store.inProcess === true,
    (keyId: string, accountId: string) => budget?.authenticated(accountId, keyId),
  );
}

/** The store {@link cachedKeyStore} builds: the `KeyStore` contract, refetch included. */
class CachedKeyStore implements KeyStore {
  constructor(
    readonly getSecret: (keyId: string, context?: KeyLookupContext) => Promise<SharedSecret | undefined>,
    readonly refetchSecret: (keyId: string, context: RefetchContext) => Promise<SharedSecret | undefined>,
    describe: ((keyId: string, context: { accountId: string }) => string) | undefined,
    inProcess: boolean,
    /** @internal Decryption with this cache's secret for (account, key id) succeeded. */
    readonly authenticated: (keyId: string, accountId: string) => void,
  ) {
    if (describe !== undefined) this.describe = describe;
    if (inProcess) this.inProcess = true;
  }

  readonly describe?: (keyId: string, context: { accountId: string }) => string;
  /** Set when the wrapped store is in process (a cache around it makes no remote call either). */
  readonly inProcess?: boolean;
}

/**
 * Wraps a key store in a cache built for a public endpoint. The receiver and every HTTP
 * adapter do this by default (their `cache` option tunes it, `cache: false` turns it off), so
 * call it yourself only to share one cache between several receivers.
 *
 * - Everything is keyed by (account id, key id): two accounts' `whk_20251121_01` are two entries.
 * - Found secrets are served for `ttlMs` (1 h, minus up to 10 % jitter); at most `maxEntries`
 *   (1000) pairs are kept, least recently used evicted first.
 * - One store call per pair at a time: N concurrent first requests make 1 call. A call not
 *   settled within `timeoutMs` (5 s) answers its waiters 503 KEY_STORE_UNAVAILABLE, is aborted
 *   (the store's `signal`) and no longer shared: the next request asks again.
 * - Unknown key ids are remembered for `negativeTtlMs` (60 s), so a secret deployed just after
 *   its key was activated starts working within a minute while the sender retries.
 * - Lookups for key ids not in the cache are budgeted, unless the store is `inProcess` (memory,
 *   env): an account that has authenticated a webhook has its own `accountLookupsPerSecond` (20);
 *   other accounts have theirs and share a pool of `lookupBurst` (500) refilled at
 *   `lookupsPerSecond` (100). Past it the answer is 503 KEY_STORE_UNAVAILABLE (the sender
 *   retries) without calling the store; implausibly dated key ids are refused first.
 * - Stale-while-revalidate: a secret past its TTL is served at once while one background
 *   refresh runs; if the refresh fails or hangs, the last good secret keeps being served (for up
 *   to `staleIfErrorMs`, 24 h), retrying the store every `errorRetryMs` (10 s). Only a pair never
 *   seen (or stale for longer than that) waits for the store.
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

/**
 * @internal Tells a cache built by {@link cachedKeyStore} that a webhook of `accountId` was
 * authenticated with the secret it gave for `keyId`: the account gets its own reserved lookup
 * budget. Does nothing for any other store.
 */
export function noteAuthenticated(store: KeyStore, keyId: string, accountId: string): void {
  if (store instanceof CachedKeyStore) store.authenticated(keyId, accountId);
}

/** @internal True for a store built by {@link cachedKeyStore} (in this copy of the library). */
export function isCachedKeyStore(store: KeyStore): boolean {
  return store instanceof CachedKeyStore;
}

// The KeyStore contract: where the receiver gets a shared secret by (account id, key id).
import type { SharedSecret } from '../wire/secret.js';

/**
 * What the receiver tells a store about a lookup, beside the key id.
 */
export interface KeyLookupContext {
  /**
   * The envelope's `account_id`, checked against `^[A-Za-z0-9_-]{1,128}$` but unauthenticated
   * until decryption succeeds. Key ids are numbered per account per day, so two accounts both
   * own `whk_20251121_01`: a store holding several accounts' keys must look up the pair. A store
   * holding one account's keys may ignore it (safe only when one receiver serves one account;
   * use the receiver's `accounts` option to refuse the others).
   */
  accountId: string;
  /**
   * Aborted when the receiver stops waiting (`keyStoreTimeoutMs`, 5 s by default). Pass it to
   * your client (`fetch(url, { signal })`, the AWS SDK's `abortSignal`) so an abandoned lookup
   * does not keep a socket. Absent when the store is called outside the receiver.
   */
  signal?: AbortSignal;
}

/**
 * Where the receiver gets shared secrets. One method:
 *
 * - resolves the secret (base64 text as Kompliant issued it, or 32 raw bytes) for `keyId` of
 *   the account `context.accountId`;
 * - resolves `undefined` when the store does not hold that id (answered as 401 UNKNOWN_KEY);
 * - rejects when the store itself failed: network, throttling, permissions (answered as
 *   503 KEY_STORE_UNAVAILABLE, so the sender retries and nothing is lost).
 *
 * `keyId` has already been checked against `^whk_[0-9]{8}_[0-9]{2}$` and `context.accountId`
 * against `^[A-Za-z0-9_-]{1,128}$` before any call, but both are still unauthenticated: nothing
 * is verified until decryption with the returned secret succeeds. Stores written before the
 * second argument existed keep working: they serve one account.
 *
 * @example
 * ```ts
 * const keyStore: KeyStore = {
 *   async getSecret(keyId, { accountId } = { accountId: '' }) {
 *     const row = await db.query(
 *       'select secret from webhook_keys where account_id = $1 and key_id = $2',
 *       [accountId, keyId],
 *     );
 *     return row?.secret;
 *   },
 * };
 * ```
 */
export interface KeyStore {
  getSecret(keyId: string, context?: KeyLookupContext): Promise<SharedSecret | undefined>;
  /**
   * Optional: where this store looks for `keyId` of `context.accountId`, as a short human
   * phrase (`'envKeyStore read KOMPLIANT_WEBHOOK_SECRET_lv_A_20251121_01, ...'`: variable names,
   * a table and row, secret ids; never a secret). When a lookup resolved `undefined`, the
   * default log's UNKNOWN_KEY line ends with it, so the line says where the missing key was
   * expected. Called only for logging, synchronously; it must not throw or do I/O (a throw is
   * ignored). `keyId` and `context.accountId` have passed the same checks as for `getSecret`.
   * `envKeyStore`, `chainKeyStores` and `cachedKeyStore` implement it (the last two pass it on).
   *
   * @example
   * ```ts
   * const keyStore: KeyStore = {
   *   getSecret: (keyId, context) => lookUp(context?.accountId, keyId),
   *   describe: (keyId, { accountId }) => `webhook_keys row (${accountId}, ${keyId})`,
   * };
   * ```
   */
  describe?(keyId: string, context: Pick<KeyLookupContext, 'accountId'>): string;
  /**
   * Optional: `true` when a lookup never leaves the process, costs nothing and never waits
   * (secrets held in memory or read from the environment). The receiver then asks the store
   * directly, with no cache in front (unless its `cache` option gives cache settings) and no
   * lookup deadline; a cache around it never budgets lookups: no 503 KEY_STORE_UNAVAILABLE for a
   * burst of first deliveries. Such a store must resolve a valid secret as it is (not padded with
   * whitespace), since no cache checks it first. Leave it unset for a store that
   * calls a service (a vault, a database, Secrets Manager): its lookups are budgeted per account
   * (see `cachedKeyStore`). `memoryKeyStore` and `envKeyStore` set it; `chainKeyStores` sets it
   * when every store in the chain does.
   */
  readonly inProcess?: boolean;
  /**
   * Optional, for stores that keep secrets for a while (a cache): called once after decryption
   * failed with `context.used`, the secret this store gave for the pair. Look the pair up again
   * at the source and resolve the secret held there now (the receiver retries only when it
   * differs), or `undefined` to keep the failure. Errors are ignored: the failure stands.
   * `cachedKeyStore` implements it, at most once per `refetchIntervalMs` per pair; a store
   * that reads its source on every call needs none.
   */
  refetchSecret?(keyId: string, context: RefetchContext): Promise<SharedSecret | undefined>;
}

/** What the receiver tells {@link KeyStore.refetchSecret}: the lookup's context and the secret that failed. */
export interface RefetchContext extends KeyLookupContext {
  /** The secret decryption just failed with. */
  used: SharedSecret;
}

/**
 * What `keyStore.describe(keyId, { accountId })` says, or `undefined` when the store has no
 * `describe`, it throws or returns anything but a string. Cut to 500 characters.
 */
export function describeKeyLookup(keyStore: unknown, keyId: string, accountId: string): string | undefined {
  const describe = (keyStore as Partial<KeyStore> | null | undefined)?.describe;
  if (typeof describe !== 'function') return undefined;
  try {
    const text: unknown = describe.call(keyStore, keyId, { accountId });
    return typeof text === 'string' && text !== '' ? text.slice(0, 500) : undefined;
  } catch {
    return undefined;
  }
}

/** Throws a TypeError naming `optionName` unless `value` has a `getSecret` function. */
export function checkKeyStore(value: unknown, optionName = 'keyStore'): KeyStore {
  if (
    typeof value !== 'object' ||
    value === null ||
    typeof (value as { getSecret?: unknown }).getSecret !== 'function'
  ) {
    throw new TypeError(`${optionName} must be an object with a getSecret(keyId, context) method`);
  }
  const refetch = (value as { refetchSecret?: unknown }).refetchSecret;
  if (refetch !== undefined && typeof refetch !== 'function') throw new TypeError(`${optionName}.refetchSecret must be a function`);
  const inProcess = (value as { inProcess?: unknown }).inProcess;
  if (inProcess !== undefined && typeof inProcess !== 'boolean') throw new TypeError(`${optionName}.inProcess must be a boolean`);
  return value as KeyStore;
}

// The options every entry point shares to open an envelope (key store, AAD, layout, body cap, cache, payload schemas), checked once.
import { checkLayoutOption, type DataLayoutName } from '../wire/data-layout.js';
import { checkAadOption, type AadOption } from '../wire/envelope.js';
import type { WebhookError } from '../wire/errors.js';
import { checkKeyStore, type KeyStore } from '../key-stores/key-store.js';
import {
  createCachedKeyStore,
  DEFAULT_KEY_STORE_TIMEOUT_MS,
  isCachedKeyStore,
  type CachedKeyStoreOptions,
} from '../key-stores/cache.js';
import { checkBooleanOption, checkPositiveInteger } from '../options/checks.js';
import { checkAccountsOption } from './accounts.js';
import { optionNames } from '../options/option-names.js';
import type { StandardSchemaV1 } from '../wire/standard-schema.js';
import { resolvePayloadSchemas, type PayloadSchemas } from './payload-schemas.js';

/** Default cap on the request body: 1 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/**
 * How every entry point opens an envelope: the key store and its cache, the accounts served, AAD,
 * layout, body cap, payload schemas, and the `onError` hook. `createWebhookReceiver` and every
 * adapter take these plus `DeliveryOptions`. `TSchemas` is the type of `schemas`, inferred where
 * the entry point types its handler.
 */
export interface EnvelopeOptions<TSchemas extends PayloadSchemas = PayloadSchemas> {
  /** Where secrets come from, by (`account_id`, `key_id`). Required. */
  keyStore: KeyStore;
  /**
   * The Kompliant accounts this receiver serves (`account_id` values). An envelope of any other
   * account is refused with 401 UNKNOWN_KEY ("account not served") before any key-store call,
   * so a receiver for two accounts never asks its store about a third. Default: every account.
   */
  accounts?: readonly string[];
  /**
   * Deadline of a key-store lookup, in milliseconds. A lookup not settled by then answers the
   * waiting requests 503 KEY_STORE_UNAVAILABLE (the sender retries), its `signal` is aborted,
   * and the next request asks the store again. Default 5000.
   */
  keyStoreTimeoutMs?: number;
  /**
   * How the AAD is built: `'default'` (spec section 2), `'none'`, or a function of the
   * envelope metadata returning bytes or a UTF-8 string. Default `'default'`.
   */
  aad?: AadOption;
  /**
   * The byte order of the decoded `data` field: one of `DATA_LAYOUT_NAMES` (from `kompliant-webhooks/wire`). Default
   * `'nonce-ciphertext-tag'`, the spec's `nonce(12) || ciphertext || tag(16)`; change it only
   * for a sender that arranges the parts otherwise (the `detect` CLI command tells which). The
   * nonce stays 12 bytes and the tag 16 in every layout.
   */
  layout?: DataLayoutName;
  /**
   * When an envelope fails to open (DECRYPTION_FAILED) with a secret the key store holds, try
   * the other layouts and AAD constructions on it after answering, at most once per key per
   * 10 minutes, and if one opens, log once at error level which `layout` / `aad` to configure
   * (counter `wire_format_detected`). The receiver never switches by itself. Default `true`.
   */
  diagnoseWireFormat?: boolean;
  /** Largest body accepted, in bytes, for bodies given as text or bytes. Default 1 MiB. */
  maxBodyBytes?: number;
  /**
   * Sees every `WebhookError` before it is thrown (or answered), for logs and metrics.
   * Errors thrown by the hook itself are ignored.
   */
  onError?: (error: WebhookError) => void;
  /**
   * The cache put in front of `keyStore` (see `cachedKeyStore`): `false` turns it off, an
   * object tunes it (and caches even an `inProcess` store). Default: on, except for a store that
   * is `inProcess` (memory, env), which is asked directly. The default cache keeps secrets 1 h,
   * 1000 entries, unknown ids 60 s, budgets lookups of ids not in the cache (20 a second per
   * account, 500 at once then 100 a second shared), serves stale secrets while the store fails
   * and refetches once after a decryption failure. A store already built with `cachedKeyStore`
   * is used as it is.
   */
  cache?: boolean | CachedKeyStoreOptions;
  /**
   * A Standard Schema (zod, valibot, arktype, ...) per `event_type`, checked on the decrypted
   * payload: a payload that fails is 400 INVALID_PAYLOAD naming the failing paths (never values);
   * the handler gets the schema's output as `data`, typed from the schema. Event types without
   * a schema pass unvalidated. Default: none.
   */
  schemas?: TSchemas;
}

/** Names of {@link EnvelopeOptions}: every entry point accepts these. */
export const ENVELOPE_OPTION_NAMES: readonly string[] = optionNames<EnvelopeOptions>({
  keyStore: true,
  accounts: true,
  keyStoreTimeoutMs: true,
  aad: true,
  layout: true,
  diagnoseWireFormat: true,
  maxBodyBytes: true,
  onError: true,
  cache: true,
  schemas: true,
});

/** The options every entry point shares, checked once. */
export interface ResolvedEnvelopeOptions {
  keyStore: KeyStore;
  /** The accounts served; `undefined` serves every account. */
  accounts: ReadonlySet<string> | undefined;
  keyStoreTimeoutMs: number;
  /** True when `keyStore` is the cache built here, whose own deadline bounds every wait. */
  timedByCache: boolean;
  aad: AadOption;
  maxBodyBytes: number;
  layout: DataLayoutName;
  /** Whether a DECRYPTION_FAILED with a held key is followed by a wire-format diagnosis. */
  diagnoseWireFormat: boolean;
  /** The `schemas` option by event type; undefined when none. */
  schemas: ReadonlyMap<string, StandardSchemaV1> | undefined;
}

/** Checks the options shared by the receiver and every adapter. */
export function resolveEnvelopeOptions(
  options: unknown,
  instrument: (keyStore: KeyStore) => KeyStore = (keyStore) => keyStore,
): ResolvedEnvelopeOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const o = options as Partial<EnvelopeOptions>;
  const keyStoreTimeoutMs = checkPositiveInteger(o.keyStoreTimeoutMs, 'keyStoreTimeoutMs', DEFAULT_KEY_STORE_TIMEOUT_MS);
  const userStore = checkKeyStore(o.keyStore);
  const keyStore = withCache(userStore, o.cache, instrument, keyStoreTimeoutMs);
  return {
    keyStore,
    accounts: checkAccountsOption(o.accounts),
    keyStoreTimeoutMs,
    timedByCache: keyStore !== userStore && isCachedKeyStore(keyStore),
    aad: checkAadOption(o.aad),
    maxBodyBytes: checkPositiveInteger(o.maxBodyBytes, 'maxBodyBytes', DEFAULT_MAX_BODY_BYTES),
    layout: checkLayoutOption(o.layout),
    diagnoseWireFormat: checkBooleanOption(o.diagnoseWireFormat, 'diagnoseWireFormat', true),
    schemas: resolvePayloadSchemas(o.schemas),
  };
}

/**
 * Puts the default (or configured) cache in front of a key store, unless told not to.
 * `instrument` wraps the user's own store beneath the cache, so what it sees (and counts) are
 * real store calls; a store the user already built with `cachedKeyStore` is used as it is.
 */
function withCache(
  keyStore: KeyStore,
  cache: unknown,
  instrument: (keyStore: KeyStore) => KeyStore,
  timeoutMs: number,
): KeyStore {
  if (cache !== undefined && typeof cache !== 'boolean' && (typeof cache !== 'object' || cache === null)) {
    throw new TypeError('cache must be false, true or an object of cache options');
  }
  if (isCachedKeyStore(keyStore)) {
    if (typeof cache === 'object') throw new TypeError('cache options given, but keyStore is already a cachedKeyStore');
    return keyStore;
  }
  // A store in this process (memory, env) answers at once: a cache in front would only add work.
  if (cache === false || (keyStore.inProcess === true && typeof cache !== 'object')) return instrument(keyStore);
  const options = typeof cache === 'object' ? (cache as CachedKeyStoreOptions) : {};
  return createCachedKeyStore(instrument(keyStore), { timeoutMs, ...options }, 'cache');
}

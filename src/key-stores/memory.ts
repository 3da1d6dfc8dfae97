// A key store holding secrets in process memory, for one account (flat) or several (nested by account), checked when it is created.
import { ID_PATTERN, isValidKeyId } from '../wire/envelope.js';
import type { KeyStore } from './key-store.js';
import { isValidSharedSecret, trimSecretText, type SharedSecret } from '../wire/secret.js';

/** `{ key_id: secret }`: one account's keys. */
export type FlatSecrets = Readonly<Record<string, SharedSecret>> | ReadonlyMap<string, SharedSecret>;
/** `{ account_id: { key_id: secret } }`: several accounts' keys. */
export type SecretsByAccount =
  | Readonly<Record<string, FlatSecrets>>
  | ReadonlyMap<string, FlatSecrets>;

const WHERE = 'memoryKeyStore';

function entriesOf(value: object): Array<[string, unknown]> {
  return value instanceof Map ? [...value.entries()] : Object.entries(value as Record<string, unknown>);
}

/** An account's key map (a plain object or a Map), as opposed to a secret (a string or bytes). */
function isKeyMap(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !(value instanceof Uint8Array) && !Array.isArray(value);
}

function quote(value: unknown): string {
  return JSON.stringify(String(value).slice(0, 64));
}

/** Checks one account's `{ key_id: secret }` entries into a map; `where` names them in errors. */
function checkKeys(value: object, where: string): Map<string, SharedSecret> {
  const held = new Map<string, SharedSecret>();
  for (const [keyId, raw] of entriesOf(value)) {
    if (!isValidKeyId(keyId)) throw new TypeError(`${where}: key id ${quote(keyId)} is not of the form whk_YYYYMMDD_NN`);
    if (raw === undefined || raw === null) {
      throw new TypeError(`${where}: the secret for ${keyId} is ${String(raw)} (is the environment variable you read it from set?)`);
    }
    const secret = trimSecretText(raw);
    if (!isValidSharedSecret(secret)) throw new TypeError(`${where}: the secret for ${keyId} is not base64 of exactly 32 bytes`);
    held.set(keyId, typeof secret === 'string' ? secret : Uint8Array.from(secret));
  }
  return held;
}

/**
 * A key store holding secrets in process memory: for tests, demos, and secrets you load
 * yourself at start-up. Two forms, one per call:
 *
 * - flat, one account's keys: `{ whk_20251121_01: secret }` (the account is not checked: use it
 *   for a receiver serving one account, with the receiver's `accounts` option to refuse others);
 * - nested by account: `{ lv_A: { whk_20251121_01: secretA }, sb_B: { whk_20251121_01: secretB } }`,
 *   for a receiver serving several accounts whose key ids collide (every account's first key of
 *   a day is `_01`).
 *
 * Every entry is checked at construction: a mix of both forms, an account id not of the form
 * `[A-Za-z0-9_-]{1,128}`, a key id not of the form `whk_YYYYMMDD_NN`, a secret that is
 * `undefined` or not base64 of exactly 32 bytes (after trimming surrounding whitespace) throws
 * a TypeError naming the key id, never the secret.
 *
 * @example
 * ```ts
 * const keyStore = memoryKeyStore({
 *   whk_20251121_01: process.env.KOMPLIANT_WEBHOOK_SECRET_20251121_01!,
 * });
 * const twoAccounts = memoryKeyStore({
 *   lv_4K8mPxR9N2jL7hS5TdWfY1: { whk_20251121_01: process.env.LIVE_SECRET! },
 *   sb_9QmT2xLw7RkP4nV8cJ6hZ3: { whk_20251121_01: process.env.SANDBOX_SECRET! },
 * });
 * ```
 */
export function memoryKeyStore(secrets: FlatSecrets | SecretsByAccount): KeyStore {
  if (typeof secrets !== 'object' || secrets === null) {
    throw new TypeError(`${WHERE} expects a record or Map of key_id -> secret, or of account_id -> { key_id -> secret }`);
  }
  const entries = entriesOf(secrets);
  const nested = entries.filter(([, value]) => isKeyMap(value)).length;
  if (nested > 0 && nested < entries.length) {
    throw new TypeError(
      `${WHERE}: give either { key_id: secret } (one account) or { account_id: { key_id: secret } } (several), not a mix of both`,
    );
  }
  if (nested === 0) {
    const held = checkKeys(secrets, WHERE);
    return { inProcess: true, getSecret: (keyId: string) => Promise.resolve(held.get(keyId)) };
  }
  const byAccount = new Map<string, Map<string, SharedSecret>>();
  for (const [accountId, keys] of entries) {
    if (!ID_PATTERN.test(accountId)) throw new TypeError(`${WHERE}: account id ${quote(accountId)} is not of the form [A-Za-z0-9_-]{1,128}`);
    byAccount.set(accountId, checkKeys(keys as object, `${WHERE}: account ${accountId}`));
  }
  return {
    inProcess: true,
    getSecret: (keyId, context) => {
      const accountId = context?.accountId;
      return Promise.resolve(typeof accountId === 'string' ? byAccount.get(accountId)?.get(keyId) : undefined);
    },
  };
}

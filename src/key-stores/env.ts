// A key store reading secrets from environment variables: per key id (optionally per account), or one JSON variable.
import { ID_PATTERN, isValidKeyId } from '../wire/envelope.js';
import { WebhookError } from '../wire/errors.js';
import { parseJsonObject } from '../wire/json.js';
import type { KeyLookupContext, KeyStore } from './key-store.js';
import { checkOptionNames } from '../options/checks.js';
import { decodeBase64Strict } from '../wire/base64.js';
import { isValidSharedSecret, requireValidSharedSecret, SECRET_BYTES, type SharedSecret } from '../wire/secret.js';

/** Default prefix of one-variable-per-key secrets: `KOMPLIANT_WEBHOOK_SECRET_20251121_01`. */
export const DEFAULT_ENV_PREFIX = 'KOMPLIANT_WEBHOOK_SECRET_';
/** Default name of the variable holding a JSON map `{"whk_...": "<base64>"}`. */
export const DEFAULT_ENV_JSON_VARIABLE = 'KOMPLIANT_WEBHOOK_KEYS';

/** Options of {@link envKeyStore}. */
export interface EnvKeyStoreOptions {
  /**
   * Prefix of the per-key variables: key id `whk_20251121_01` is read from
   * `${prefix}20251121_01` (any account), and for account `lv_A` first from
   * `${prefix}lv_A_20251121_01`. Default `'KOMPLIANT_WEBHOOK_SECRET_'`.
   */
  prefix?: string;
  /**
   * Name of a variable holding a JSON object `{"whk_...": "<base64>"}` with several keys, or
   * one keyed by account `{"lv_A": {"whk_...": "<base64>"}}`, consulted when no per-key
   * variable is set; `false` turns it off. Default `'KOMPLIANT_WEBHOOK_KEYS'`.
   */
  jsonVariable?: string | false;
  /** Where variables are read from, at lookup time. Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
}

const OPTION_NAMES = ['prefix', 'jsonVariable', 'env'];
const WHERE = 'envKeyStore';
/** `YYYYMMDD_NN` at the end of a variable name: the key id without `whk_`. */
const KEY_SUFFIX = /^(?:(.+)_)?([0-9]{8}_[0-9]{2})$/;

function checkVariableName(value: unknown, name: string, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(value)) {
    throw new TypeError(`${WHERE}: ${name} must be an environment variable name`);
  }
  return value;
}

function isSet(value: string | undefined): value is string {
  return typeof value === 'string' && value.trim() !== '';
}

function isKeyMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What the JSON variable holds for (account, key id): the account's own entry, or a flat one. */
interface JsonLookup {
  scoped: SharedSecret | undefined;
  flat: SharedSecret | undefined;
}

/** The secret for (account, key id) in the JSON variable's text: flat or keyed by account. */
function secretFromJsonVariable(text: string, name: string, keyId: string, accountId: string | undefined): JsonLookup {
  let keys: Record<string, unknown>;
  try {
    keys = parseJsonObject(text, 'INVALID_KEY');
  } catch {
    throw new WebhookError('INVALID_KEY', { message: `${name} is not a JSON object of key_id -> secret` });
  }
  const account = accountId !== undefined && Object.hasOwn(keys, accountId) ? keys[accountId] : undefined;
  return {
    scoped: isKeyMap(account) && Object.hasOwn(account, keyId) ? requireValidSharedSecret(account[keyId]) : undefined,
    flat: Object.hasOwn(keys, keyId) ? requireValidSharedSecret(keys[keyId]) : undefined,
  };
}

/** Why `value` is not a shared secret, in words that never quote it; undefined when it is one. */
function secretProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'is not a string';
  const text = value.trim();
  if (isValidSharedSecret(text)) return undefined;
  const bytes = decodeBase64Strict(text);
  if (bytes === undefined) return 'is not base64';
  const length = bytes.length;
  bytes.fill(0);
  return `is base64 of ${length} bytes`;
}

/** The start-up error for a variable (or JSON entry) whose value is not a secret: its name and what is wrong, never the value. */
function badSecretMessage(where: string, problem: string): string {
  return `${WHERE}: ${where} ${problem}; a shared secret is base64 of exactly ${SECRET_BYTES} bytes (the shared_secret of webhook.key.create, as issued)`;
}

/** A JSON entry's name in a message: quoted when it is an id, else left out (a misplaced value must not be echoed). */
const entryName = (name: string): string => (ID_PATTERN.test(name) ? `[${JSON.stringify(name)}]` : '[<an entry>]');

/**
 * The key ids (with their account, when scoped) the environment holds now, for the start-up
 * check, which also refuses a value that is not a secret (a TypeError naming the variable, never
 * the value); `undefined` when the environment cannot be read now (a custom `env` that throws):
 * the lookups will tell.
 */
function scanKeys(
  env: Readonly<Record<string, string | undefined>>,
  prefix: string,
  jsonVariable: string | undefined,
): string[] | undefined {
  let variables: Array<[string, string | undefined]>;
  let json: string | undefined;
  try {
    variables = Object.entries(env);
    json = jsonVariable === undefined ? undefined : env[jsonVariable];
  } catch {
    return undefined;
  }
  const found: string[] = [];
  for (const [name, value] of variables) {
    if (!name.startsWith(prefix) || !isSet(value)) continue;
    const match = KEY_SUFFIX.exec(name.slice(prefix.length));
    if (match === null) continue;
    const [, accountId, suffix] = match;
    if (accountId !== undefined && !ID_PATTERN.test(accountId)) continue;
    const problem = secretProblem(value);
    if (problem !== undefined) throw new TypeError(badSecretMessage(name, problem));
    found.push(accountId === undefined ? `whk_${suffix}` : `${accountId}/whk_${suffix}`);
  }
  if (isSet(json)) {
    let entries: Array<[string, unknown]>;
    try {
      entries = Object.entries(parseJsonObject(json, 'INVALID_KEY'));
    } catch {
      throw new TypeError(`${WHERE}: ${jsonVariable} is not a JSON object of key_id -> secret (or account_id -> { key_id -> secret })`);
    }
    for (const [outer, value] of entries) {
      const inner: Array<[string, unknown, string]> = isKeyMap(value)
        ? Object.entries(value).map(([keyId, secret]) => [`${outer}/${keyId}`, secret, `${entryName(outer)}${entryName(keyId)}`])
        : [[outer, value, entryName(outer)]];
      for (const [label, secret, path] of inner) {
        const problem = secretProblem(secret);
        if (problem !== undefined) throw new TypeError(badSecretMessage(`${jsonVariable}${path}`, problem));
        found.push(label);
      }
    }
  }
  return found;
}

/**
 * A key store reading secrets from environment variables, at lookup time, so a variable
 * changed in `env` is picked up (with the receiver's default cache: within the negative-cache
 * time, 60 s). For key id `whk_20251121_01` of account `lv_A` it reads, first set wins:
 *
 * 1. `KOMPLIANT_WEBHOOK_SECRET_lv_A_20251121_01` (the account's own variable);
 * 2. `KOMPLIANT_WEBHOOK_KEYS` holding `{"lv_A": {"whk_20251121_01": "<base64>"}}`;
 * 3. `KOMPLIANT_WEBHOOK_SECRET_20251121_01` (no account: serves every account);
 * 4. `KOMPLIANT_WEBHOOK_KEYS` holding `{"whk_20251121_01": "<base64>"}`.
 *
 * The flat names (3, 4) suit a receiver serving one account; a receiver serving several uses
 * the account names (1, 2) for every account, so one account's secret is never tried on
 * another's envelope. Surrounding whitespace of a value is trimmed. At construction the
 * environment is scanned: when it holds no webhook secret at all, a TypeError names the
 * variables looked for, and every secret found (each per-key variable, each entry of the JSON
 * variable) must be base64 of exactly 32 bytes, else a TypeError names the variable (and the
 * entry) and what is wrong with it, never the value. A value that goes bad after construction
 * rejects the lookup with `WebhookError('INVALID_KEY')` (500), whose message names neither the
 * value nor its bytes. `describe(keyId, { accountId })` lists the variables a lookup reads, in
 * order; the default log's UNKNOWN_KEY line shows it.
 *
 * @example
 * ```ts
 * // KOMPLIANT_WEBHOOK_SECRET_20251121_01=<shared_secret from webhook.key.create>
 * app.post('/webhooks/kompliant', kompliantWebhook({ keyStore: envKeyStore(), onEvent }));
 * ```
 */
export function envKeyStore(options: EnvKeyStoreOptions = {}): KeyStore {
  if (typeof options !== 'object' || options === null) throw new TypeError(`${WHERE}: options must be an object`);
  checkOptionNames(options, OPTION_NAMES, WHERE);
  const prefix = checkVariableName(options.prefix, 'prefix', DEFAULT_ENV_PREFIX);
  const jsonVariable =
    options.jsonVariable === false ? undefined : checkVariableName(options.jsonVariable, 'jsonVariable', DEFAULT_ENV_JSON_VARIABLE);
  const env = options.env ?? process.env;
  if (typeof env !== 'object' || env === null) throw new TypeError(`${WHERE}: env must be an object`);
  if (scanKeys(env, prefix, jsonVariable)?.length === 0) throw new TypeError(noKeysMessage(env, prefix, jsonVariable));

  return {
    inProcess: true,
    async getSecret(keyId: string, context?: KeyLookupContext): Promise<SharedSecret | undefined> {
      if (!isValidKeyId(keyId)) return undefined;
      const suffix = keyId.slice('whk_'.length);
      const accountId = typeof context?.accountId === 'string' && ID_PATTERN.test(context.accountId) ? context.accountId : undefined;
      if (accountId !== undefined) {
        const scoped = env[`${prefix}${accountId}_${suffix}`];
        if (isSet(scoped)) return requireValidSharedSecret(scoped);
      }
      const json = jsonVariable === undefined ? undefined : env[jsonVariable];
      const fromJson = isSet(json) ? secretFromJsonVariable(json, jsonVariable as string, keyId, accountId) : undefined;
      if (fromJson?.scoped !== undefined) return fromJson.scoped;
      const single = env[`${prefix}${suffix}`];
      if (isSet(single)) return requireValidSharedSecret(single);
      return fromJson?.flat;
    },
    describe(keyId: string, context?: Pick<KeyLookupContext, 'accountId'>): string {
      if (!isValidKeyId(keyId)) return `${WHERE} reads nothing for a malformed key id`;
      const suffix = keyId.slice('whk_'.length);
      const accountId = typeof context?.accountId === 'string' && ID_PATTERN.test(context.accountId) ? context.accountId : undefined;
      const read = [
        ...(accountId === undefined ? [] : [`${prefix}${accountId}_${suffix}`]),
        ...(accountId === undefined || jsonVariable === undefined ? [] : [`${jsonVariable}${entryName(accountId)}${entryName(keyId)}`]),
        `${prefix}${suffix}`,
        ...(jsonVariable === undefined ? [] : [`${jsonVariable}${entryName(keyId)}`]),
      ];
      return `${WHERE} read ${read.join(', ')}`;
    },
  };
}

/** The start-up error when the environment holds no secret: which variables were looked for, and the likely mistake. */
function noKeysMessage(env: Readonly<Record<string, string | undefined>>, prefix: string, jsonVariable: string | undefined): string {
  const looked = [`${prefix}<YYYYMMDD_NN>`, `${prefix}<account_id>_<YYYYMMDD_NN>`, ...(jsonVariable === undefined ? [] : [jsonVariable])];
  const bare = prefix.replace(/_$/, '');
  const hint = isSet(env[bare])
    ? ` ${bare} is set, but its name carries no key id: rename it ${prefix}<YYYYMMDD_NN> (for whk_20251121_01: ${prefix}20251121_01).`
    : ` Set one, e.g. ${prefix}20251121_01=<shared_secret of whk_20251121_01>.`;
  return `${WHERE}: no webhook secret found in the environment; looked for ${looked.join(', ')}.${hint}`;
}

// A key store reading secrets from environment variables (one variable per key id, or one JSON variable).
import { isValidKeyId } from '../wire/envelope.js';
import { WebhookError } from '../wire/errors.js';
import { parseJsonObject } from '../wire/json.js';
import type { KeyStore } from './key-store.js';
import { checkOptionNames } from '../options/checks.js';
import { requireValidSharedSecret, type SharedSecret } from '../wire/secret.js';

/** Default prefix of one-variable-per-key secrets: `KOMPLIANT_WEBHOOK_SECRET_20251121_01`. */
export const DEFAULT_ENV_PREFIX = 'KOMPLIANT_WEBHOOK_SECRET_';
/** Default name of the variable holding a JSON map `{"whk_...": "<base64>"}`. */
export const DEFAULT_ENV_JSON_VARIABLE = 'KOMPLIANT_WEBHOOK_KEYS';

/** Options of {@link envKeyStore}. */
export interface EnvKeyStoreOptions {
  /**
   * Prefix of the per-key variables: key id `whk_20251121_01` is read from
   * `${prefix}20251121_01`. Default `'KOMPLIANT_WEBHOOK_SECRET_'`.
   */
  prefix?: string;
  /**
   * Name of a variable holding a JSON object `{"whk_...": "<base64>"}` with several keys,
   * consulted when the per-key variable is not set; `false` turns it off.
   * Default `'KOMPLIANT_WEBHOOK_KEYS'`.
   */
  jsonVariable?: string | false;
  /** Where variables are read from, at lookup time. Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
}

const OPTION_NAMES = ['prefix', 'jsonVariable', 'env'];

function checkVariableName(value: unknown, name: string, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(value)) {
    throw new TypeError(`envKeyStore: ${name} must be an environment variable name`);
  }
  return value;
}

function secretFromJsonVariable(text: string, name: string, keyId: string): SharedSecret | undefined {
  let keys: Record<string, unknown>;
  try {
    keys = parseJsonObject(text, 'INVALID_KEY');
  } catch {
    throw new WebhookError('INVALID_KEY', { message: `${name} is not a JSON object of key_id -> secret` });
  }
  if (!Object.hasOwn(keys, keyId)) return undefined;
  return requireValidSharedSecret(keys[keyId]);
}

/**
 * A key store reading secrets from environment variables, at lookup time, so keys added by a
 * redeploy or a secrets sidecar are picked up (with the receiver's default cache: within the
 * negative-cache time, 60 s). Key id `whk_20251121_01` is read from
 * `KOMPLIANT_WEBHOOK_SECRET_20251121_01`; when that is unset, from the JSON map in
 * `KOMPLIANT_WEBHOOK_KEYS` (`{"whk_20251121_01": "<base64>"}`). Surrounding whitespace is
 * trimmed. A value that is not base64 of exactly 32 bytes rejects with
 * `WebhookError('INVALID_KEY')` (500), whose message names neither the value nor its bytes.
 *
 * @example
 * ```ts
 * // KOMPLIANT_WEBHOOK_SECRET_20251121_01=<shared_secret from webhook.key.create>
 * app.post('/webhooks/kompliant', kompliantWebhook({ keyStore: envKeyStore(), onEvent }));
 * ```
 */
export function envKeyStore(options: EnvKeyStoreOptions = {}): KeyStore {
  if (typeof options !== 'object' || options === null) throw new TypeError('envKeyStore: options must be an object');
  checkOptionNames(options, OPTION_NAMES, 'envKeyStore');
  const prefix = checkVariableName(options.prefix, 'prefix', DEFAULT_ENV_PREFIX);
  const jsonVariable =
    options.jsonVariable === false ? undefined : checkVariableName(options.jsonVariable, 'jsonVariable', DEFAULT_ENV_JSON_VARIABLE);
  const env = options.env ?? process.env;
  if (typeof env !== 'object' || env === null) throw new TypeError('envKeyStore: env must be an object');

  return {
    async getSecret(keyId: string): Promise<SharedSecret | undefined> {
      if (!isValidKeyId(keyId)) return undefined;
      const single = env[`${prefix}${keyId.slice('whk_'.length)}`];
      if (typeof single === 'string' && single.trim() !== '') return requireValidSharedSecret(single.trim());
      if (jsonVariable === undefined) return undefined;
      const json = env[jsonVariable];
      if (typeof json !== 'string' || json.trim() === '') return undefined;
      return secretFromJsonVariable(json, jsonVariable, keyId);
    },
  };
}

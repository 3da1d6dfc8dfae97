// A key store backed by AWS Secrets Manager (one secret per key id, or one bundle secret), through an SDK client you pass or configure.
import {
  GetSecretValueCommand,
  SecretsManagerClient,
  type GetSecretValueCommandOutput,
  type SecretsManagerClientConfig,
} from '@aws-sdk/client-secrets-manager';
import { isValidKeyId } from '../wire/envelope.js';
import { WebhookError } from '../wire/errors.js';
import { parseJsonObject } from '../wire/json.js';
import type { KeyStore } from './key-store.js';
import { checkFunction, checkOptionNames, checkPositiveInteger } from '../options/checks.js';
import { requireValidSharedSecret, type SharedSecret } from '../wire/secret.js';

/** Default secret name of a key id: `kompliant/webhook/whk_20251121_01`. */
export const defaultAwsSecretId = (keyId: string): string => `kompliant/webhook/${keyId}`;
/** Default JSON field holding the shared secret when a SecretString is a JSON object. */
export const DEFAULT_AWS_SECRET_FIELD = 'shared_secret';
/** Default deadline of one GetSecretValue call (SDK retries included): 5 s. */
export const DEFAULT_AWS_TIMEOUT_MS = 5_000;

/** Pass an SDK client you built, or the config to build one, never both. */
export type AwsClientChoice =
  | {
      /** A `SecretsManagerClient` you configured (region, credentials, retries, endpoint). */
      client: SecretsManagerClient;
      clientConfig?: never;
    }
  | {
      client?: never;
      /** Config for the client this store builds. Default: the SDK's defaults (region and credentials from the environment). */
      clientConfig?: SecretsManagerClientConfig;
    };

/** One secret per key id (the default). */
export interface AwsPerKeySecrets {
  /** The secret name or ARN for a key id. Default `` keyId => `kompliant/webhook/${keyId}` ``. */
  secretId?: (keyId: string) => string;
  /**
   * When a SecretString is a JSON object, the field holding the base64 secret (a bare base64
   * SecretString, or a SecretBinary of 32 bytes, is used as it is). Default `'shared_secret'`.
   */
  field?: string;
  bundleSecretId?: never;
  bundleTtlMs?: never;
}

/** One secret holding every key: a JSON object `{"whk_...": "<base64>"}`; one API call for all keys. */
export interface AwsBundleSecret {
  /** Name or ARN of the bundle secret. */
  bundleSecretId: string;
  /**
   * How long one read of the bundle answers for every key id (so the lookups of several key
   * ids at start-up cost one call; the cache in front does the long-term caching). Default 5000.
   */
  bundleTtlMs?: number;
  secretId?: never;
  field?: never;
}

/** Options shared by both layouts. */
export interface AwsCommonOptions {
  /** The staging label to read. Default `'AWSCURRENT'`. */
  versionStage?: string;
  /** Deadline of one lookup, SDK retries included; past it the lookup rejects (503). Default 5000. */
  timeoutMs?: number;
}

/** Options of {@link awsSecretsManagerKeyStore}. */
export type AwsSecretsManagerKeyStoreOptions = AwsClientChoice & (AwsPerKeySecrets | AwsBundleSecret) & AwsCommonOptions;

const OPTION_NAMES = ['client', 'clientConfig', 'secretId', 'field', 'bundleSecretId', 'bundleTtlMs', 'versionStage', 'timeoutMs'] as const;
const WHERE = 'awsSecretsManagerKeyStore';

function checkString(value: unknown, name: string, fallback?: string): string {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'string' || value === '') throw new TypeError(`${WHERE}: ${name} must be a non-empty string`);
  return value;
}

/** "Missing" is not "failed": the secret does not exist, or is scheduled for deletion. */
function isMissingSecret(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { name, message } = error as { name?: unknown; message?: unknown };
  if (name === 'ResourceNotFoundException') return true;
  return name === 'InvalidRequestException' && typeof message === 'string' && /marked for deletion/i.test(message);
}

function secretFromString(text: string, field: string): SharedSecret {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) return requireValidSharedSecret(trimmed);
  const object = parseJsonObject(trimmed, 'INVALID_KEY');
  return requireValidSharedSecret(Object.hasOwn(object, field) ? object[field] : undefined);
}

/**
 * A key store reading shared secrets from AWS Secrets Manager, from the subpath
 * `kompliant-webhooks/aws` (`@aws-sdk/client-secrets-manager` is an optional peer dependency:
 * install it to use this store; the main entry never loads it).
 *
 * - Per key (default): key id `whk_20251121_01` reads secret `kompliant/webhook/whk_20251121_01`
 *   (`secretId` changes that); its SecretString is the bare base64 secret or JSON with the
 *   secret in `field` (`shared_secret`); a SecretBinary of 32 bytes works too.
 * - Bundle: `{ bundleSecretId }` reads one secret holding `{"whk_...": "<base64>", ...}`.
 * - Errors are mapped by name: ResourceNotFoundException, and InvalidRequestException for a
 *   secret marked for deletion, resolve `undefined` (401 UNKNOWN_KEY); everything else
 *   (throttling, AccessDenied, KMS DecryptionFailure, network errors, the `timeoutMs` deadline)
 *   rejects with the SDK's error (503 KEY_STORE_UNAVAILABLE, the error kept as `cause`).
 * - A malformed secret rejects with INVALID_KEY (500); no message ever contains the value.
 * - Key ids not of the form `whk_YYYYMMDD_NN` resolve `undefined` without any API call.
 *
 * The receiver's default cache makes this one call per key id per hour.
 *
 * @example
 * ```ts
 * import { awsSecretsManagerKeyStore } from 'kompliant-webhooks/aws';
 *
 * app.post('/webhooks/kompliant', kompliantWebhook({
 *   keyStore: awsSecretsManagerKeyStore({ clientConfig: { region: 'eu-west-1' } }),
 *   onEvent,
 * }));
 * ```
 */
export function awsSecretsManagerKeyStore(options: AwsSecretsManagerKeyStoreOptions = {}): KeyStore {
  if (typeof options !== 'object' || options === null) throw new TypeError(`${WHERE}: options must be an object`);
  checkOptionNames(options, OPTION_NAMES, WHERE);
  const o = options as { [K in (typeof OPTION_NAMES)[number]]?: unknown };
  if (o.client !== undefined && o.clientConfig !== undefined) throw new TypeError(`${WHERE}: give client or clientConfig, not both`);
  if (o.client !== undefined && typeof (o.client as { send?: unknown }).send !== 'function') {
    throw new TypeError(`${WHERE}: client must be a SecretsManagerClient`);
  }
  if (o.clientConfig !== undefined && (typeof o.clientConfig !== 'object' || o.clientConfig === null)) {
    throw new TypeError(`${WHERE}: clientConfig must be an object`);
  }
  const bundleSecretId = o.bundleSecretId === undefined ? undefined : checkString(o.bundleSecretId, 'bundleSecretId');
  if (bundleSecretId !== undefined && (o.secretId !== undefined || o.field !== undefined)) {
    throw new TypeError(`${WHERE}: bundleSecretId cannot be combined with secretId or field`);
  }
  const secretId = checkFunction<(keyId: string) => string>(o.secretId, 'secretId') ?? defaultAwsSecretId;
  const field = checkString(o.field, 'field', DEFAULT_AWS_SECRET_FIELD);
  const versionStage = checkString(o.versionStage, 'versionStage', 'AWSCURRENT');
  const timeoutMs = checkPositiveInteger(o.timeoutMs, 'timeoutMs', DEFAULT_AWS_TIMEOUT_MS);
  const bundleTtlMs = checkPositiveInteger(o.bundleTtlMs, 'bundleTtlMs', 5_000);
  const client =
    (o.client as SecretsManagerClient | undefined) ??
    new SecretsManagerClient((o.clientConfig as SecretsManagerClientConfig | undefined) ?? {});

  /** The secret's value, or undefined when it does not exist. */
  const read = async (id: string): Promise<GetSecretValueCommandOutput | undefined> => {
    try {
      return await client.send(new GetSecretValueCommand({ SecretId: id, VersionStage: versionStage }), {
        abortSignal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      if (isMissingSecret(error)) return undefined;
      throw error;
    }
  };

  if (bundleSecretId === undefined) {
    return {
      async getSecret(keyId: string): Promise<SharedSecret | undefined> {
        if (!isValidKeyId(keyId)) return undefined;
        const id = secretId(keyId);
        if (typeof id !== 'string' || id === '') throw new TypeError(`${WHERE}: secretId() must return a non-empty string`);
        const value = await read(id);
        if (value === undefined) return undefined;
        if (typeof value.SecretString === 'string') return secretFromString(value.SecretString, field);
        if (value.SecretBinary instanceof Uint8Array) return requireValidSharedSecret(value.SecretBinary);
        throw new WebhookError('INVALID_KEY');
      },
    };
  }

  let bundle: { keys: Map<string, unknown>; readAt: number } | undefined;
  let pending: Promise<Map<string, unknown>> | undefined;
  const loadBundle = (): Promise<Map<string, unknown>> => {
    if (bundle !== undefined && Date.now() - bundle.readAt < bundleTtlMs) return Promise.resolve(bundle.keys);
    pending ??= (async () => {
      try {
        const value = await read(bundleSecretId);
        const keys = new Map<string, unknown>();
        if (value !== undefined) {
          if (typeof value.SecretString !== 'string') throw new WebhookError('INVALID_KEY', { message: 'The key bundle secret is not a JSON object' });
          let object: Record<string, unknown>;
          try {
            object = parseJsonObject(value.SecretString, 'INVALID_KEY');
          } catch {
            throw new WebhookError('INVALID_KEY', { message: 'The key bundle secret is not a JSON object' });
          }
          for (const [keyId, secret] of Object.entries(object)) keys.set(keyId, secret);
        }
        bundle = { keys, readAt: Date.now() };
        return keys;
      } finally {
        pending = undefined;
      }
    })();
    return pending;
  };

  return {
    async getSecret(keyId: string): Promise<SharedSecret | undefined> {
      if (!isValidKeyId(keyId)) return undefined;
      const keys = await loadBundle();
      const secret = keys.get(keyId);
      return secret === undefined ? undefined : requireValidSharedSecret(secret);
    },
  };
}

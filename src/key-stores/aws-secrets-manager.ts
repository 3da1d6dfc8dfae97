// A key store backed by AWS Secrets Manager (one secret per key id, or one bundle secret), through an SDK client you pass or configure.
import {
  GetSecretValueCommand,
  SecretsManagerClient,
  type GetSecretValueCommandOutput,
  type SecretsManagerClientConfig,
} from '@aws-sdk/client-secrets-manager';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { isValidKeyId } from '../wire/envelope.js';
import { WebhookError } from '../wire/errors.js';
import { parseJsonObject } from '../wire/json.js';
import type { KeyLookupContext, KeyStore } from './key-store.js';
import { checkOptionNames, checkPositiveInteger } from '../options/checks.js';
import { requireValidSharedSecret, type SharedSecret } from '../wire/secret.js';

/** Default secret name of a key id: `kompliant/webhook/whk_20251121_01`. */
export const defaultAwsSecretId = (keyId: string): string => `kompliant/webhook/${keyId}`;

/**
 * A secret name for (account, key id): a template with `{account_id}` and `{key_id}`
 * (`'kompliant/webhook/{account_id}/{key_id}'`), or a function of both.
 */
export type AwsSecretIdOption = string | ((keyId: string, accountId: string) => string);

const TEMPLATE_FIELD = /\{(account_id|key_id)\}/g;

/**
 * @internal Checks a `secretId` option (template or function) into a function of (keyId,
 * accountId); a template must hold `{key_id}`. `where` names the option in errors.
 */
export function toSecretIdFunction(value: unknown, where: string): (keyId: string, accountId: string) => string {
  if (value === undefined) return defaultAwsSecretId;
  if (typeof value === 'function') return value as (keyId: string, accountId: string) => string;
  if (typeof value !== 'string' || !value.includes('{key_id}')) {
    throw new TypeError(`${where}: secretId must be a function or a template holding {key_id} (and {account_id} for several accounts)`);
  }
  return (keyId, accountId) => value.replace(TEMPLATE_FIELD, (_, field: string) => (field === 'key_id' ? keyId : accountId));
}

/** True when a `secretId` template or `bundleSecretId` names the account. */
function templateHasAccount(value: unknown): boolean {
  return typeof value === 'string' && value.includes('{account_id}');
}
/** Default JSON field holding the shared secret when a SecretString is a JSON object. */
const DEFAULT_AWS_SECRET_FIELD = 'shared_secret';
/** Default deadline of one GetSecretValue call (SDK retries included): 5 s. */
const DEFAULT_AWS_TIMEOUT_MS = 5_000;

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
  /**
   * The secret name or ARN for a key id of an account: a template with `{key_id}` and
   * `{account_id}` (`'kompliant/webhook/{account_id}/{key_id}'` for several accounts), or a
   * function `(keyId, accountId) => name`. Default `` keyId => `kompliant/webhook/${keyId}` ``
   * (one account).
   */
  secretId?: AwsSecretIdOption;
  /**
   * When a SecretString is a JSON object, the field holding the base64 secret (a bare base64
   * SecretString, or a SecretBinary of 32 bytes, is used as it is).
   *
   * @defaultValue `'shared_secret'`
   */
  field?: string;
  bundleSecretId?: never;
  bundleTtlMs?: never;
}

/**
 * One secret holding every key: a JSON object `{"whk_...": "<base64>"}` (one account) or keyed
 * by account `{"lv_A": {"whk_...": "<base64>"}, "sb_B": {...}}`; one API call for all keys.
 */
export interface AwsBundleSecret {
  /**
   * Name or ARN of the bundle secret; with `{account_id}` in it, one bundle per account
   * (`'kompliant/webhook-keys/{account_id}'`), each holding that account's `{"whk_...": ...}`.
   */
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
  /**
   * Deadline of one lookup, SDK retries included; past it the lookup rejects (503).
   *
   * @defaultValue 5000
   */
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

/**
 * The region the SDK will use, checked at construction: a region in `clientConfig`, the
 * `AWS_REGION` variable, or a shared AWS config file (whose profile may name one). Without any
 * of these every lookup would fail, so the store refuses to start.
 */
function checkRegion(clientConfig: SecretsManagerClientConfig | undefined, env: NodeJS.ProcessEnv): void {
  if (clientConfig?.region !== undefined && clientConfig.region !== '') return;
  if (typeof env.AWS_REGION === 'string' && env.AWS_REGION.trim() !== '') return;
  const configFile = env.AWS_CONFIG_FILE ?? join(homedir(), '.aws', 'config');
  if (existsSync(configFile)) return;
  throw new TypeError(
    `${WHERE}: no AWS region: set the AWS_REGION environment variable, or pass clientConfig: { region: 'eu-west-1' } (or a client you configured)`,
  );
}

/** The store's own deadline joined with the receiver's signal, when it gives one. */
function lookupSignal(timeoutMs: number, context: KeyLookupContext | undefined): AbortSignal {
  const timeout = AbortSignal.timeout(timeoutMs);
  const outer = context?.signal;
  if (outer === undefined) return timeout;
  if (typeof AbortSignal.any === 'function') return AbortSignal.any([timeout, outer]);
  const controller = new AbortController();
  const abort = (signal: AbortSignal): void => controller.abort(signal.reason);
  if (outer.aborted) abort(outer);
  outer.addEventListener('abort', () => abort(outer), { once: true });
  timeout.addEventListener('abort', () => abort(timeout), { once: true });
  return controller.signal;
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
 *   (`secretId` changes that: for several accounts, a template such as
 *   `'kompliant/webhook/{account_id}/{key_id}'`); its SecretString is the bare base64 secret or
 *   JSON with the secret in `field` (`shared_secret`); a SecretBinary of 32 bytes works too.
 * - Bundle: `{ bundleSecretId }` reads one secret holding `{"whk_...": "<base64>", ...}`, or
 *   keyed by account `{"lv_A": {"whk_...": "<base64>"}, ...}`; with `{account_id}` in the
 *   name, one bundle per account.
 * - The region is resolved at construction: without `clientConfig.region`, `AWS_REGION` or a
 *   shared AWS config file, construction throws a TypeError saying so.
 * - The receiver's `signal` (its `keyStoreTimeoutMs`) and this store's own `timeoutMs` are
 *   passed to the SDK as `abortSignal`: an abandoned lookup closes its request.
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
  const secretId = toSecretIdFunction(o.secretId, WHERE);
  const field = checkString(o.field, 'field', DEFAULT_AWS_SECRET_FIELD);
  const versionStage = checkString(o.versionStage, 'versionStage', 'AWSCURRENT');
  const timeoutMs = checkPositiveInteger(o.timeoutMs, 'timeoutMs', DEFAULT_AWS_TIMEOUT_MS);
  const bundleTtlMs = checkPositiveInteger(o.bundleTtlMs, 'bundleTtlMs', 5_000);
  if (o.client === undefined) checkRegion(o.clientConfig as SecretsManagerClientConfig | undefined, process.env);
  const client =
    (o.client as SecretsManagerClient | undefined) ??
    new SecretsManagerClient((o.clientConfig as SecretsManagerClientConfig | undefined) ?? {});

  /** The secret's value, or undefined when it does not exist. */
  const read = async (id: string, context: KeyLookupContext | undefined): Promise<GetSecretValueCommandOutput | undefined> => {
    try {
      return await client.send(new GetSecretValueCommand({ SecretId: id, VersionStage: versionStage }), {
        abortSignal: lookupSignal(timeoutMs, context),
      });
    } catch (error) {
      if (isMissingSecret(error)) return undefined;
      throw error;
    }
  };

  const perAccountNames = templateHasAccount(o.secretId);
  if (bundleSecretId === undefined) {
    return {
      async getSecret(keyId: string, context?: KeyLookupContext): Promise<SharedSecret | undefined> {
        if (!isValidKeyId(keyId)) return undefined;
        const accountId = context?.accountId;
        // A name that needs the account is never built without one.
        if (perAccountNames && typeof accountId !== 'string') return undefined;
        const id = secretId(keyId, accountId ?? '');
        if (typeof id !== 'string' || id === '') throw new TypeError(`${WHERE}: secretId() must return a non-empty string`);
        const value = await read(id, context);
        if (value === undefined) return undefined;
        if (typeof value.SecretString === 'string') return secretFromString(value.SecretString, field);
        if (value.SecretBinary instanceof Uint8Array) return requireValidSharedSecret(value.SecretBinary);
        throw new WebhookError('INVALID_KEY');
      },
    };
  }

  const bundles = createBundleReader(bundleSecretId, bundleTtlMs, read);
  const bundlePerAccount = templateHasAccount(bundleSecretId);
  return {
    async getSecret(keyId: string, context?: KeyLookupContext): Promise<SharedSecret | undefined> {
      if (!isValidKeyId(keyId)) return undefined;
      const accountId = context?.accountId;
      if (bundlePerAccount && typeof accountId !== 'string') return undefined;
      const keys = await bundles.load(accountId ?? '', context);
      const secret = keys.get(keyId, accountId);
      return secret === undefined ? undefined : requireValidSharedSecret(secret);
    },
  };
}

/** One read bundle: its secrets by key id, flat (one account) or by account. */
interface BundleKeys {
  get(keyId: string, accountId: string | undefined): unknown;
}

function parseBundle(text: string): BundleKeys {
  let object: Record<string, unknown>;
  try {
    object = parseJsonObject(text, 'INVALID_KEY');
  } catch {
    throw new WebhookError('INVALID_KEY', { message: 'The key bundle secret is not a JSON object' });
  }
  const entries = Object.entries(object);
  const nested = entries.filter(([, v]) => typeof v === 'object' && v !== null && !Array.isArray(v)).length;
  if (nested > 0 && nested < entries.length) {
    throw new WebhookError('INVALID_KEY', { message: 'The key bundle secret mixes {key_id: secret} and {account_id: {key_id: secret}}' });
  }
  if (nested === 0) {
    const flat = new Map(entries);
    return { get: (keyId) => flat.get(keyId) };
  }
  const byAccount = new Map(entries.map(([accountId, keys]) => [accountId, new Map(Object.entries(keys as Record<string, unknown>))]));
  return { get: (keyId, accountId) => (accountId === undefined ? undefined : byAccount.get(accountId)?.get(keyId)) };
}

/**
 * Reads bundle secrets (one, or one per account when the name holds `{account_id}`), each read
 * answering every key id for `ttlMs`, one read per bundle at a time.
 */
function createBundleReader(
  nameTemplate: string,
  ttlMs: number,
  read: (id: string, context: KeyLookupContext | undefined) => Promise<GetSecretValueCommandOutput | undefined>,
): { load(accountId: string, context: KeyLookupContext | undefined): Promise<BundleKeys> } {
  const EMPTY: BundleKeys = { get: () => undefined };
  const loaded = new Map<string, { keys: BundleKeys; readAt: number }>();
  const pending = new Map<string, Promise<BundleKeys>>();
  return {
    load(accountId, context) {
      const name = nameTemplate.replace(TEMPLATE_FIELD, (_, field: string) => (field === 'account_id' ? accountId : '{key_id}'));
      const held = loaded.get(name);
      if (held !== undefined && Date.now() - held.readAt < ttlMs) return Promise.resolve(held.keys);
      const running = pending.get(name);
      if (running !== undefined) return running;
      const call = (async () => {
        try {
          const value = await read(name, context);
          let keys = EMPTY;
          if (value !== undefined) {
            if (typeof value.SecretString !== 'string') throw new WebhookError('INVALID_KEY', { message: 'The key bundle secret is not a JSON object' });
            keys = parseBundle(value.SecretString);
          }
          loaded.delete(name);
          loaded.set(name, { keys, readAt: Date.now() });
          // One entry per account served: bounded by the accounts that reached the store.
          if (loaded.size > 1000) loaded.delete(loaded.keys().next().value as string);
          return keys;
        } finally {
          pending.delete(name);
        }
      })();
      pending.set(name, call);
      return call;
    },
  };
}

// Key rotation: create, store, verify, then activate a new webhook key, reporting what is known at each step.
import { isKompliantApiError, isDailyLimitError } from './api-error.js';
import type { KompliantClient } from './client.js';
import { isWebhookError } from '../wire/errors.js';
import type { KeyStore } from '../key-stores/key-store.js';
import { openEnvelope } from '../wire/open-envelope.js';
import type { SecretSink } from './secret-sink.js';
import { createTestWebhook } from '../sealing/seal.js';

/** The steps of a rotation, in order. */
export type RotationStep = 'check-previous' | 'create' | 'store' | 'verify' | 'activate';

/** Options of {@link rotateWebhookKey}. */
export interface RotateWebhookKeyOptions {
  /** The key API client (`createKompliantClient`). */
  client: KompliantClient;
  /** The account whose key rotates. */
  accountId: string;
  /** Where the new secret is stored. */
  sink: SecretSink;
  /**
   * How the receiver resolves secrets, used to read the new one back. Default: the sink's own
   * `keyStore`. Required for sinks without one (stdout).
   */
  keyStore?: KeyStore;
  /**
   * The key that is ACTIVE now. When given it is checked first (`webhook.key.get` must say
   * ACTIVE) and reported back; the key API cannot list keys, so without it the previous key id
   * is reported as unknown.
   */
  previousKeyId?: string;
  /** Called after the secret was stored, before it is read back (e.g. wait for a human). */
  afterStore?: (keyId: string) => Promise<void> | void;
  /** Progress hook: called as each step starts. */
  onStep?: (step: RotationStep, keyId: string | undefined) => void;
}

/** What a successful rotation reports. */
export interface RotationResult {
  /** The new ACTIVE key. */
  keyId: string;
  activatedAt: string;
  /**
   * The key that was ACTIVE before (now DELETED), when known. Keep its secret in the key store
   * until the sender's retries of events encrypted with it have drained (Kompliant retries up
   * to 95 times with exponential backoff: days).
   */
  previousKeyId: string | undefined;
  /** The sink's name. */
  sink: string;
}

/**
 * A rotation that stopped. `step` says where; `keyId` is the key created (if any); `hint` says
 * what to do. `activation` is `'not-done'` when the account's ACTIVE key is known to be
 * unchanged (the new key is INACTIVE and harmless: every step but `activate` leaves it so,
 * and a failed `activate` whose read-back says INACTIVE too), and `'unknown'` when activation's
 * answer was lost and reading the key back failed as well: then the new key may be ACTIVE (and
 * the previous one DELETED), and the message names the check (`webhook.key.get`). Never
 * contains a secret.
 */
export class RotationError extends Error {
  readonly step: RotationStep;
  readonly keyId: string | undefined;
  readonly hint: string;
  readonly activation: 'not-done' | 'unknown';

  constructor(step: RotationStep, keyId: string | undefined, hint: string, cause: unknown, activation: 'not-done' | 'unknown' = 'not-done') {
    const what =
      activation === 'unknown'
        ? `; whether ${keyId ?? 'the new key'} was activated is unknown`
        : `${keyId === undefined ? '' : ` (new key ${keyId} is INACTIVE)`}; the active key is unchanged`;
    super(`Key rotation failed at step "${step}"${what}. ${hint}`, { cause });
    this.name = 'RotationError';
    this.step = step;
    this.keyId = keyId;
    this.hint = hint;
    this.activation = activation;
  }
}

function describe(error: unknown): string {
  if (isKompliantApiError(error)) return `${error.code}${error.subCode === undefined ? '' : `/${error.subCode}`}`;
  if (isWebhookError(error)) return error.code;
  // Only the error's class and errno-style code: a message may quote a secret-bearing input.
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : error instanceof Error ? error.name : 'error';
}

/**
 * The integration guide's rotation runbook as one call: create a key, store its secret through
 * the sink, read it back through the receiver's key store and open a self-made test envelope
 * with it, and only then activate it. A failure at any step throws a {@link RotationError}
 * naming the step and what to do, and leaves the ACTIVE key untouched.
 *
 * @example
 * ```ts
 * import { createKompliantClient, envFileSink, rotateWebhookKey } from 'kompliant-webhooks/client';
 *
 * const result = await rotateWebhookKey({
 *   client: createKompliantClient(),
 *   accountId: 'lv_4K8mPxR9N2jL7hS5TdWfY1',
 *   sink: envFileSink({ path: '/etc/receiver/kompliant.env' }),
 *   previousKeyId: 'whk_20251101_01',
 * });
 * console.log(`now ${result.keyId}; keep ${result.previousKeyId} until retries drain`);
 * ```
 */
export async function rotateWebhookKey(options: RotateWebhookKeyOptions): Promise<RotationResult> {
  const { client, accountId, sink, previousKeyId, onStep, afterStore } = options;
  if (typeof client?.createKey !== 'function' || typeof client.activateKey !== 'function') {
    throw new TypeError('rotateWebhookKey: client must be a KompliantClient');
  }
  if (typeof accountId !== 'string' || accountId.length === 0) throw new TypeError('rotateWebhookKey: accountId must be a non-empty string');
  if (typeof sink?.store !== 'function') throw new TypeError('rotateWebhookKey: sink must have a store(keyId, secret) method');
  const keyStore = options.keyStore ?? sink.keyStore;

  if (previousKeyId !== undefined) {
    onStep?.('check-previous', undefined);
    let status: string;
    try {
      status = (await client.getKey({ keyId: previousKeyId })).status;
    } catch (error) {
      throw new RotationError('check-previous', undefined, `Could not read ${previousKeyId} (${describe(error)}); check previousKeyId and the API credentials. Nothing was created.`, error);
    }
    if (status !== 'ACTIVE') {
      throw new RotationError('check-previous', undefined, `${previousKeyId} is ${status}, not ACTIVE; pass the key that is active now. Nothing was created.`, undefined);
    }
  }

  onStep?.('create', undefined);
  let created;
  try {
    created = await client.createKey({ accountId });
  } catch (error) {
    const hint = isDailyLimitError(error)
      ? 'The daily key limit (99 per UTC day) is reached: retry after 00:00 UTC.'
      : `webhook.key.create failed (${describe(error)}); check the account id, the API credentials and connectivity, then run the rotation again.`;
    throw new RotationError('create', undefined, hint, error);
  }
  const keyId = created.key_id;

  onStep?.('store', keyId);
  try {
    await sink.store(keyId, created.shared_secret, { accountId });
    await afterStore?.(keyId);
  } catch (error) {
    throw new RotationError('store', keyId, `Storing the secret through the ${sink.name} sink failed (${describe(error)}); fix access to it and run the rotation again (a new key will be created; ${keyId} stays unused).`, error);
  }

  onStep?.('verify', keyId);
  let verifyFailure: string | undefined;
  let verifyCause: unknown;
  try {
    if (keyStore !== undefined) {
      const readBack = await keyStore.getSecret(keyId, { accountId });
      if (readBack === undefined || readBack === null) verifyFailure = 'not found';
      else {
        const probe = createTestWebhook({ secret: created.shared_secret, keyId, account_id: accountId, eventType: 'ROTATION_PROBE' });
        openEnvelope(probe, readBack);
      }
    }
  } catch (error) {
    verifyCause = error;
    verifyFailure = isWebhookError(error) && error.code === 'DECRYPTION_FAILED' ? 'a different secret' : describe(error);
  }
  if (keyStore === undefined) {
    throw new RotationError(
      'verify',
      keyId,
      `The ${sink.name} sink cannot be read back: store the secret where your receiver reads keys and pass that key store as keyStore, or activate ${keyId} yourself once it is stored.`,
      undefined,
    );
  }
  if (verifyFailure !== undefined) {
    throw new RotationError(
      'verify',
      keyId,
      `The receiver's key store could not resolve ${keyId} of account ${accountId} or its secret does not open a test envelope (${verifyFailure}); make sure the receiver reads from where the ${sink.name} sink wrote, then activate ${keyId} (webhook.key.activate) or rerun.`,
      verifyCause,
    );
  }

  onStep?.('activate', keyId);
  let activatedAt: string;
  try {
    activatedAt = (await client.activateKey({ keyId })).activated_at;
  } catch (error) {
    // The answer may have been lost after the activation happened: ask before reporting failure.
    let info: Awaited<ReturnType<KompliantClient['getKey']>> | undefined;
    let readBackFailed = false;
    try {
      info = await client.getKey({ keyId });
    } catch {
      readBackFailed = true;
    }
    if (readBackFailed) {
      throw new RotationError(
        'activate',
        keyId,
        `webhook.key.activate failed (${describe(error)}) and reading ${keyId} back failed too, so whether it was activated is unknown: check with webhook.key.get for ${keyId} (client.getKey({ keyId: '${keyId}' }); the CLI has no command for it). If it is ACTIVE, the previously active key is DELETED now; if it is INACTIVE, activate it (webhook.key.activate) once the API is reachable: its secret is stored and verified.`,
        error,
        'unknown',
      );
    }
    if (info?.status !== 'ACTIVE' || info.activated_at === undefined) {
      throw new RotationError('activate', keyId, `webhook.key.activate failed (${describe(error)}); the secret is stored and verified, so activate ${keyId} (webhook.key.activate) once the API is reachable.`, error);
    }
    activatedAt = info.activated_at;
  }
  return { keyId, activatedAt, previousKeyId, sink: sink.name };
}

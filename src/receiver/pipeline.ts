// Opening a body on the receiver's options: size cap, JSON, envelope rules, accounts, key lookup, AES-256-GCM, payload.
import { validateEnvelope, type ValidatedEnvelope } from '../wire/envelope.js';
import { WebhookError, isWebhookError } from '../wire/errors.js';
import type { KompliantEvent } from '../wire/event.js';
import type { KeyStore } from '../key-stores/key-store.js';
import { noteAuthenticated } from '../key-stores/cache.js';
import { decryptEnvelope, toEnvelopeObject } from '../wire/open-envelope.js';
import type { ResolvedEnvelopeOptions } from './options.js';
import { requireServedAccount } from './accounts.js';
import { isSameSharedSecret, type SharedSecret } from '../wire/secret.js';
import { withDeadline } from '../delivery/deadline.js';

/**
 * One store call with the receiver's deadline, for stores that do not time out themselves (no
 * cache, or a `cachedKeyStore` built by the user): past `timeoutMs` the signal passed to the
 * store is aborted and the request gets 503 KEY_STORE_UNAVAILABLE.
 */
function getSecretWithDeadline(keyStore: KeyStore, keyId: string, accountId: string, timeoutMs: number): Promise<unknown> {
  const controller = new AbortController();
  return withDeadline(
    () => keyStore.getSecret(keyId, { accountId, signal: controller.signal }),
    timeoutMs,
    () => {
      const error = new WebhookError('KEY_STORE_UNAVAILABLE', { message: `Key store lookup did not settle within ${timeoutMs} ms` });
      controller.abort(error);
      return error;
    },
  );
}

/**
 * The secret of (keyId, accountId), waiting at most `timeoutMs` (a cache that times out itself is
 * only wrapped when that is shorter than its own; an `inProcess` store never waits, so it has no timer).
 */
async function resolveSecret(config: ResolvedEnvelopeOptions, keyId: string, accountId: string, timeoutMs: number): Promise<SharedSecret> {
  const { keyStore } = config;
  let secret: unknown;
  try {
    secret =
      keyStore.inProcess === true || (config.timedByCache && timeoutMs >= config.keyStoreTimeoutMs)
        ? await keyStore.getSecret(keyId, { accountId })
        : await getSecretWithDeadline(keyStore, keyId, accountId, timeoutMs);
  } catch (cause) {
    if (isWebhookError(cause)) throw cause;
    throw new WebhookError('KEY_STORE_UNAVAILABLE', { cause });
  }
  if (secret === undefined || secret === null) throw new WebhookError('UNKNOWN_KEY');
  if (typeof secret !== 'string' && !(secret instanceof Uint8Array)) throw new WebhookError('INVALID_KEY');
  return secret;
}

function bodyBytes(body: unknown): number {
  if (typeof body === 'string') return Buffer.byteLength(body, 'utf8');
  if (body instanceof Uint8Array) return body.length;
  return 0;
}

/**
 * After DECRYPTION_FAILED with `used`: a secret the store now holds instead (it may have been
 * corrected since it was cached), through the store's optional `refetchSecret`; `undefined`
 * when the store has none, gives nothing new, or fails.
 */
async function refetchedSecret(keyStore: KeyStore, keyId: string, accountId: string, used: SharedSecret): Promise<SharedSecret | undefined> {
  if (typeof keyStore.refetchSecret !== 'function') return undefined;
  try {
    return (await keyStore.refetchSecret(keyId, { accountId, used })) ?? undefined;
  } catch {
    return undefined;
  }
}

/**
 * The first half of opening a body, before any key-store call: size cap, JSON, envelope rules.
 * Throws the `WebhookError` of the first rule broken.
 */
export function readEnvelope(config: ResolvedEnvelopeOptions, body: unknown): ValidatedEnvelope {
  if (bodyBytes(body) > config.maxBodyBytes) throw new WebhookError('PAYLOAD_TOO_LARGE');
  return validateEnvelope(toEnvelopeObject(body));
}

const isDecryptionFailure = (error: unknown): boolean => isWebhookError(error) && error.code === 'DECRYPTION_FAILED';

/**
 * The second half: the `accounts` allow-list, the key lookup by (account_id, key_id),
 * AES-256-GCM with the AAD, strict UTF-8 JSON payload. The lookup waits at most `lookupMs`
 * (`keyStoreTimeoutMs`, or less when the delivery's deadline is nearer). After DECRYPTION_FAILED
 * the store is asked once for a corrected secret (see `KeyStore.refetchSecret`) and decryption
 * tried again only if it changed. When it still fails, `unopened` gets the last secret tried (one
 * the store holds) before DECRYPTION_FAILED is thrown, for the wire-format diagnosis.
 */
export async function decryptValidated<TData>(
  config: ResolvedEnvelopeOptions,
  envelope: ValidatedEnvelope,
  lookupMs: number = config.keyStoreTimeoutMs,
  unopened?: (secret: SharedSecret) => void,
): Promise<KompliantEvent<TData>> {
  const { key_id: keyId, account_id: accountId } = envelope.metadata;
  requireServedAccount(config.accounts, accountId);
  const secret = await resolveSecret(config, keyId, accountId, lookupMs);
  let tried = secret;
  let event: KompliantEvent<TData>;
  try {
    try {
      event = decryptEnvelope<TData>(envelope, secret, config.aad, config.layout);
    } catch (error) {
      if (!isDecryptionFailure(error)) throw error;
      const fresh = await refetchedSecret(config.keyStore, keyId, accountId, secret);
      if (fresh === undefined || isSameSharedSecret(fresh, secret)) throw error;
      tried = fresh;
      event = decryptEnvelope<TData>(envelope, fresh, config.aad, config.layout);
    }
  } catch (error) {
    if (unopened !== undefined && isDecryptionFailure(error)) unopened(tried);
    throw error;
  }
  // Authenticated: the cache gives this account its own lookup budget.
  noteAuthenticated(config.keyStore, keyId, accountId);
  return event;
}

// The pipeline every entry point runs on a body: size cap, JSON, envelope rules, key lookup, AES-256-GCM, payload.
import { validateEnvelope, type ValidatedEnvelope } from '../wire/envelope.js';
import { WebhookError, isWebhookError } from '../wire/errors.js';
import type { EnvelopeMetadata, KompliantEvent } from '../wire/event.js';
import type { KeyStore } from '../key-stores/key-store.js';
import { peekCachedSecret, refetchAfterDecryptionFailure } from '../key-stores/cache.js';
import { decryptEnvelope, toEnvelopeObject } from '../wire/open-envelope.js';
import type { ResolvedReceiverOptions } from './options.js';
import { requireServedAccount } from './accounts.js';
import type { SharedSecret } from '../wire/secret.js';
import { tagRejection } from './rejected-envelope.js';
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

async function resolveSecret(config: ResolvedReceiverOptions, keyId: string, accountId: string): Promise<SharedSecret> {
  const { keyStore } = config;
  let secret: unknown;
  try {
    secret = config.timedByCache
      ? await keyStore.getSecret(keyId, { accountId })
      : await getSecretWithDeadline(keyStore, keyId, accountId, config.keyStoreTimeoutMs);
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

function isDecryptionFailure(error: unknown): error is WebhookError {
  return isWebhookError(error) && error.code === 'DECRYPTION_FAILED';
}

/**
 * After DECRYPTION_FAILED with `used`: the secret may have been corrected in the store since it
 * was cached, so one rate-limited refetch (a no-op without the cache), then one more try only if
 * the secret changed; otherwise the original `failure`.
 */
async function retryWithRefetchedSecret<TData>(
  config: ResolvedReceiverOptions,
  envelope: ValidatedEnvelope,
  used: SharedSecret,
  failure: WebhookError,
): Promise<KompliantEvent<TData>> {
  const { key_id, account_id } = envelope.metadata;
  const fresh = await refetchAfterDecryptionFailure(config.keyStore, key_id, account_id, used);
  if (fresh === undefined) throw failure;
  return decryptEnvelope<TData>(envelope, fresh, config.aad, config.layout);
}

/** Decrypts with `secret`, turning DECRYPTION_FAILED into the one refetch-and-retry. */
function decryptOrRetry<TData>(
  config: ResolvedReceiverOptions,
  envelope: ValidatedEnvelope,
  secret: SharedSecret,
): KompliantEvent<TData> | Promise<KompliantEvent<TData>> {
  try {
    return decryptEnvelope<TData>(envelope, secret, config.aad, config.layout);
  } catch (error) {
    if (!isDecryptionFailure(error)) throw error;
    return retryWithRefetchedSecret<TData>(config, envelope, secret, error);
  }
}

async function decryptWithStoredSecret<TData>(
  config: ResolvedReceiverOptions,
  envelope: ValidatedEnvelope,
): Promise<KompliantEvent<TData>> {
  const secret = await resolveSecret(config, envelope.metadata.key_id, envelope.metadata.account_id);
  return decryptOrRetry<TData>(config, envelope, secret);
}

/**
 * Runs the whole pipeline on a body: size cap, JSON, envelope rules (key_id before anything
 * touches the key store), the `accounts` allow-list, key lookup by (account_id, key_id), AES-256-GCM with the AAD, strict UTF-8 JSON payload.
 * Shared by the receiver and every HTTP adapter; it never calls `onError`.
 *
 * The hot path allocates no promise: when the key id's secret is fresh in the key cache, the
 * event is returned as is, and a rejection found before any lookup is thrown. Otherwise the
 * result is a promise. Callers handle both (`result instanceof Promise ? await result : result`).
 * A rejection after the envelope rules passed is tagged with the envelope's metadata
 * (`rejectedEnvelope(error)`), for the log line.
 */
export function runPipeline<TData>(
  config: ResolvedReceiverOptions,
  body: unknown,
): KompliantEvent<TData> | Promise<KompliantEvent<TData>> {
  if (bodyBytes(body) > config.maxBodyBytes) throw new WebhookError('PAYLOAD_TOO_LARGE');
  const envelope = validateEnvelope(toEnvelopeObject(body));
  const { metadata } = envelope;
  try {
    requireServedAccount(config.accounts, metadata.account_id);
    const cached = peekCachedSecret(config.keyStore, metadata.key_id, metadata.account_id);
    if (cached === undefined) return tagRejections(decryptWithStoredSecret<TData>(config, envelope), metadata);
    const opened = decryptOrRetry<TData>(config, envelope, cached);
    return opened instanceof Promise ? tagRejections(opened, metadata) : opened;
  } catch (error) {
    throw tagRejection(error, metadata);
  }
}

/** `opening`, with a rejection tagged with the envelope it came from (see tagRejection). */
function tagRejections<T>(opening: Promise<T>, metadata: EnvelopeMetadata): Promise<T> {
  return opening.catch((error: unknown) => {
    throw tagRejection(error, metadata);
  });
}
